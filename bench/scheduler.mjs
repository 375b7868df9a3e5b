#!/usr/bin/env node
// Scheduler benchmark: the engine's pure decision (decideSchedule) on synthetic clusters, no
// cluster or server needed, next to the incremental scheduler the engine runs (IncrementalScheduler:
// apply the round's delta, then decide), so that its cost following the change is visible.
// Prints a table and one JSON line (also bench/results/scheduler.json).
//
//   node bench/scheduler.mjs          (after a build: it imports packages/domain/dist)
//
// The cluster mixes every constraint (randomCluster in packages/domain/src/scheduler/scheduler-fixtures.ts):
// plain units, MachineMetadata (AND / OR / quoted), Conflicts globs over template instances,
// MachineOf sidekicks with specifiers, MachineID, Replaces (one way and circular), MachineOf
// cycles, global and inactive units. Each figure is the median of several runs after warm-up.
//
// Environment knobs: BENCH_SCHED_UNITS=10000 BENCH_SCHED_MACHINES=1000 BENCH_SCHED_RUNS=9
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { decideSchedule, IncrementalScheduler, planChanges } from "../packages/domain/dist/index.js";
import { applyChanges, randomCluster, xUnit } from "../packages/domain/dist/scheduler/scheduler-fixtures.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const UNITS = Number(process.env.BENCH_SCHED_UNITS ?? 10_000);
const MACHINES = Number(process.env.BENCH_SCHED_MACHINES ?? 1_000);
const RUNS = Number(process.env.BENCH_SCHED_RUNS ?? 9);
const WARMUP = 3;
const TARGET_FULL_MS = 200;

const round = (x) => Math.round(x * 10) / 10;
/** Three significant digits for sub-millisecond figures. */
const fine = (x) => Number(x < 10 ? x.toPrecision(3) : x.toFixed(1));

function measure(snapshot) {
  const times = [];
  let changes = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t = performance.now();
    changes = planChanges(decideSchedule(snapshot));
    if (i >= WARMUP) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { medianMs: round(times[Math.floor(times.length / 2)]), minMs: round(times[0]), maxMs: round(times[times.length - 1]), changes };
}

/** A settled cluster: the full decision applied. */
function settle(snapshot) {
  let s = snapshot;
  for (let i = 0; i < 3; i++) {
    const changes = planChanges(decideSchedule(s));
    if (changes.length === 0) break;
    s = applyChanges(s, changes);
  }
  return s;
}

/** `n` changed units: a third new, a third stopped (inactive), a third launched with new requirements. */
function changeUnits(settled, n, seed) {
  const units = [...settled.units];
  const changed = [];
  const step = Math.max(1, Math.floor(units.length / n));
  for (let k = 0; k < n; k++) {
    const kind = k % 3;
    if (kind === 0) {
      const u = xUnit(`bench-new-${seed}-${k}.service`, k % 2 ? { MachineMetadata: "region=east" } : { Conflicts: `bench-new-${seed}-*` });
      units.push(u);
      changed.push(u.name);
    } else {
      const i = (k * step + seed) % units.length;
      const u = units[i];
      units[i] = kind === 1 ? { ...u, desiredState: "inactive" } : { ...u, desiredState: u.desiredState === "inactive" ? "launched" : u.desiredState };
      changed.push(u.name);
    }
  }
  return { ...settled, units };
}

function scenario(label, build) {
  const snapshot = build();
  const r = measure(snapshot);
  const placed = r.changes.filter((c) => c.machineId !== "").length;
  const unplaced = r.changes.filter((c) => c.machineId === "" && c.reason !== "").length;
  return { label, units: snapshot.units.length, machines: snapshot.machines.length, medianMs: r.medianMs, minMs: r.minMs, maxMs: r.maxMs, changes: r.changes.length, placed, unplaced };
}

const base = randomCluster(7, { machines: MACHINES, units: UNITS });
const settled = settle(base);
const small = randomCluster(7, { machines: Math.max(1, MACHINES / 10), units: UNITS / 10 });
const smallSettled = settle(small);
const lostMachine = () => {
  const victim = settled.machines[Math.floor(settled.machines.length / 2)];
  return { ...settled, machines: settled.machines.filter((m) => m !== victim) };
};

const rows = [
  scenario(`full placement from nothing`, () => base),
  scenario(`steady, nothing changed`, () => settled),
  scenario(`steady, 10 units changed`, () => changeUnits(settled, 10, 1)),
  scenario(`steady, 100 units changed`, () => changeUnits(settled, 100, 2)),
  scenario(`steady, 1000 units changed`, () => changeUnits(settled, 1000, 3)),
  scenario(`steady, one machine lost`, lostMachine),
  scenario(`1/10 cluster: full placement`, () => small),
  scenario(`1/10 cluster: steady, 10 changed`, () => changeUnits(smallSettled, 10, 4)),
];

// The incremental scheduler: kept from a settled cluster; each run applies one round's delta
// and decides, then (not timed) puts the cluster back with the inverse delta.
function unitDelta(settled, changed) {
  const before = new Map(settled.units.map((u) => [u.name, u]));
  const units = changed.units.filter((u) => before.get(u.name) !== u);
  const inverse = {
    units: units.filter((u) => before.has(u.name)).map((u) => before.get(u.name)),
    removedUnits: units.filter((u) => !before.has(u.name)).map((u) => u.name),
  };
  return { delta: { units }, inverse };
}

function incremental(label, build) {
  const inc = IncrementalScheduler.fromSnapshot(settled);
  inc.decide();
  const { delta, inverse } = build();
  const times = [];
  let changes = [];
  let stats = inc.lastStats;
  let units = 0;
  let machines = 0;
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t = performance.now();
    inc.apply(delta);
    changes = planChanges(inc.decide());
    if (i >= WARMUP) times.push(performance.now() - t);
    stats = inc.lastStats;
    const after = inc.snapshot();
    units = after.units.length;
    machines = after.machines.length;
    inc.apply(inverse);
    inc.decide();
  }
  times.sort((a, b) => a - b);
  const unplaced = changes.filter((c) => c.machineId === "" && c.reason !== "").length;
  return {
    label,
    units,
    machines,
    medianMs: fine(times[Math.floor(times.length / 2)]),
    minMs: fine(times[0]),
    maxMs: fine(times[times.length - 1]),
    changes: changes.length,
    placed: changes.filter((c) => c.machineId !== "").length,
    unplaced,
    kept: stats.kept,
    tried: stats.tried,
  };
}

function initialBuild() {
  const times = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    IncrementalScheduler.fromSnapshot(settled).decide();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return round(times[1]);
}

const victim = settled.machines[Math.floor(settled.machines.length / 2)];
const incRows = [
  incremental(`incremental: nothing changed`, () => ({ delta: {}, inverse: {} })),
  incremental(`incremental: 10 units changed`, () => unitDelta(settled, changeUnits(settled, 10, 1))),
  incremental(`incremental: 100 units changed`, () => unitDelta(settled, changeUnits(settled, 100, 2))),
  incremental(`incremental: 1000 units changed`, () => unitDelta(settled, changeUnits(settled, 1000, 3))),
  incremental(`incremental: one machine lost`, () => ({ delta: { removedMachines: [victim.id] }, inverse: { machines: [victim] } })),
];
const buildMs = initialBuild();

const full = rows[0];
const steady10 = rows[2];
const inc10 = incRows[1];
const result = {
  scheduler: {
    units: UNITS,
    machines: MACHINES,
    runs: RUNS,
    node: process.version,
    fullMs: full.medianMs,
    fullTargetMs: TARGET_FULL_MS,
    fullWithinTarget: full.medianMs <= TARGET_FULL_MS,
    steady10Ms: steady10.medianMs,
    steady10OfFull: round((steady10.medianMs / full.medianMs) * 100) / 100,
    incremental10Ms: inc10.medianMs,
    incremental10OfFull: Math.round((inc10.medianMs / full.medianMs) * 10000) / 10000,
    incrementalBuildMs: buildMs,
    rows,
    incrementalRows: incRows,
  },
};

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log("");
console.log(`Scheduler decision (decideSchedule), median of ${RUNS} runs after ${WARMUP} warm-up, ${process.version}`);
console.log(`${pad("scenario", 36)}${lpad("units", 7)}${lpad("machines", 10)}${lpad("median ms", 11)}${lpad("min", 8)}${lpad("max", 8)}${lpad("changes", 9)}${lpad("unplaced", 10)}`);
for (const r of rows) {
  console.log(`${pad(r.label, 36)}${lpad(r.units, 7)}${lpad(r.machines, 10)}${lpad(r.medianMs, 11)}${lpad(r.minMs, 8)}${lpad(r.maxMs, 8)}${lpad(r.changes, 9)}${lpad(r.unplaced, 10)}`);
}
console.log("");
console.log(`Incremental scheduler (IncrementalScheduler: apply the round's delta + decide), same cluster settled; built from the snapshot once in ${buildMs} ms`);
console.log(`${pad("scenario", 36)}${lpad("units", 7)}${lpad("machines", 10)}${lpad("median ms", 11)}${lpad("min", 8)}${lpad("max", 8)}${lpad("changes", 9)}${lpad("unplaced", 10)}${lpad("kept", 7)}${lpad("tried", 7)}`);
for (const r of incRows) {
  console.log(`${pad(r.label, 36)}${lpad(r.units, 7)}${lpad(r.machines, 10)}${lpad(r.medianMs, 11)}${lpad(r.minMs, 8)}${lpad(r.maxMs, 8)}${lpad(r.changes, 9)}${lpad(r.unplaced, 10)}${lpad(r.kept, 7)}${lpad(r.tried, 7)}`);
}
console.log(`incremental: 10 changed units of ${UNITS} take ${inc10.medianMs} ms, ${(result.scheduler.incremental10OfFull * 100).toFixed(2)}% of the full decision (${full.medianMs} ms)`);
console.log(
  `target: full placement of ${UNITS} units on ${MACHINES} machines <= ${TARGET_FULL_MS} ms: ${result.scheduler.fullWithinTarget ? "met" : "MISSED"}; ` +
    `10 changed units: ${(result.scheduler.incremental10OfFull * 100).toFixed(2)}% of the full time with the engine's incremental scheduler ` +
    `(recomputing from nothing, as decideSchedule alone does, takes ${Math.round(result.scheduler.steady10OfFull * 100)}%)`,
);
console.log(JSON.stringify(result));
mkdirSync(join(HERE, "results"), { recursive: true });
writeFileSync(join(HERE, "results", "scheduler.json"), JSON.stringify(result, null, 2) + "\n");

#!/usr/bin/env node
// Scheduler benchmark: the engine's pure decision (decideSchedule) on synthetic clusters, no
// cluster or server needed, next to the incremental scheduler the engine runs (IncrementalScheduler:
// apply the round's delta, then decide), so that its cost following the change is visible.
// Prints a table and one JSON line (also bench/results/scheduler.json).
//
//   node bench/dist/scheduler/main.js   (after a build: it runs packages/domain/dist)
//
// The cluster mixes every constraint (randomCluster in packages/domain/src/scheduler/scheduler-fixtures.ts):
// plain units, MachineMetadata (AND / OR / quoted), Conflicts globs over template instances,
// MachineOf sidekicks with specifiers, MachineID, Replaces (one way and circular), MachineOf
// cycles, global and inactive units. Each figure is the median of several runs after warm-up.
//
// Environment knobs: BENCH_SCHED_UNITS=10000 BENCH_SCHED_MACHINES=1000 BENCH_SCHED_RUNS=9
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomCluster } from "@fleet/domain/scheduler-fixtures";
import { changeUnits, incremental, initialBuild, round, RUNS, scenario, settle, unitDelta, WARMUP, type Row, type Snapshot } from "./scenarios.js";

/** bench/results, from bench/{src,dist}/scheduler/main.*. */
const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "results");
const UNITS = Number(process.env.BENCH_SCHED_UNITS ?? 10_000);
const MACHINES = Number(process.env.BENCH_SCHED_MACHINES ?? 1_000);
const TARGET_FULL_MS = 200;

const base: Snapshot = randomCluster(7, { machines: MACHINES, units: UNITS });
const settled = settle(base);
const small: Snapshot = randomCluster(7, { machines: Math.max(1, MACHINES / 10), units: UNITS / 10 });
const smallSettled = settle(small);
const victim = settled.machines[Math.floor(settled.machines.length / 2)]!;
const lostMachine = (): Snapshot => ({ ...settled, machines: settled.machines.filter((m) => m !== victim) });

const rows: Row[] = [
  scenario(`full placement from nothing`, () => base),
  scenario(`steady, nothing changed`, () => settled),
  scenario(`steady, 10 units changed`, () => changeUnits(settled, 10, 1)),
  scenario(`steady, 100 units changed`, () => changeUnits(settled, 100, 2)),
  scenario(`steady, 1000 units changed`, () => changeUnits(settled, 1000, 3)),
  scenario(`steady, one machine lost`, lostMachine),
  scenario(`1/10 cluster: full placement`, () => small),
  scenario(`1/10 cluster: steady, 10 changed`, () => changeUnits(smallSettled, 10, 4)),
];

const incRows = [
  incremental(settled, `incremental: nothing changed`, () => ({ delta: {}, inverse: {} })),
  incremental(settled, `incremental: 10 units changed`, () => unitDelta(settled, changeUnits(settled, 10, 1))),
  incremental(settled, `incremental: 100 units changed`, () => unitDelta(settled, changeUnits(settled, 100, 2))),
  incremental(settled, `incremental: 1000 units changed`, () => unitDelta(settled, changeUnits(settled, 1000, 3))),
  incremental(settled, `incremental: one machine lost`, () => ({ delta: { removedMachines: [victim.id] }, inverse: { machines: [victim] } })),
];
const buildMs = initialBuild(settled);

const full = rows[0]!;
const steady10 = rows[2]!;
const inc10 = incRows[1]!;
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

const pad = (s: unknown, n: number) => String(s).padEnd(n);
const lpad = (s: unknown, n: number) => String(s).padStart(n);
const line = (r: Row) => `${pad(r.label, 36)}${lpad(r.units, 7)}${lpad(r.machines, 10)}${lpad(r.medianMs, 11)}${lpad(r.minMs, 8)}${lpad(r.maxMs, 8)}${lpad(r.changes, 9)}${lpad(r.unplaced, 10)}`;
const header = `${pad("scenario", 36)}${lpad("units", 7)}${lpad("machines", 10)}${lpad("median ms", 11)}${lpad("min", 8)}${lpad("max", 8)}${lpad("changes", 9)}${lpad("unplaced", 10)}`;
console.log("");
console.log(`Scheduler decision (decideSchedule), median of ${RUNS} runs after ${WARMUP} warm-up, ${process.version}`);
console.log(header);
for (const r of rows) console.log(line(r));
console.log("");
console.log(`Incremental scheduler (IncrementalScheduler: apply the round's delta + decide), same cluster settled; built from the snapshot once in ${buildMs} ms`);
console.log(`${header}${lpad("kept", 7)}${lpad("tried", 7)}`);
for (const r of incRows) console.log(`${line(r)}${lpad(r.kept, 7)}${lpad(r.tried, 7)}`);
console.log(`incremental: 10 changed units of ${UNITS} take ${inc10.medianMs} ms, ${(result.scheduler.incremental10OfFull * 100).toFixed(2)}% of the full decision (${full.medianMs} ms)`);
console.log(
  `target: full placement of ${UNITS} units on ${MACHINES} machines <= ${TARGET_FULL_MS} ms: ${result.scheduler.fullWithinTarget ? "met" : "MISSED"}; ` +
    `10 changed units: ${(result.scheduler.incremental10OfFull * 100).toFixed(2)}% of the full time with the engine's incremental scheduler ` +
    `(recomputing from nothing, as decideSchedule alone does, takes ${Math.round(result.scheduler.steady10OfFull * 100)}%)`,
);
console.log(JSON.stringify(result));
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(join(RESULTS_DIR, "scheduler.json"), JSON.stringify(result, null, 2) + "\n");

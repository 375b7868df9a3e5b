// The scheduler bench's scenarios: a synthetic cluster settled, then changed in a few ways, each
// decided several times by decideSchedule (from nothing) and by the incremental scheduler.
import { performance } from "node:perf_hooks";
import { decideSchedule, IncrementalScheduler, planChanges, type Placement } from "@fleet/domain";
import { applyChanges, xUnit } from "@fleet/domain/scheduler-fixtures";

export type Snapshot = Parameters<typeof decideSchedule>[0];
type Delta = Parameters<IncrementalScheduler["apply"]>[0];
type Unit = Snapshot["units"][number];

export const RUNS = Number(process.env.BENCH_SCHED_RUNS ?? 9);
export const WARMUP = 3;

export const round = (x: number): number => Math.round(x * 10) / 10;
/** Three significant digits for sub-millisecond figures. */
const fine = (x: number): number => Number(x < 10 ? x.toPrecision(3) : x.toFixed(1));
const median = (sorted: readonly number[]): number => sorted[Math.floor(sorted.length / 2)]!;

export interface Row {
  label: string;
  units: number;
  machines: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  changes: number;
  placed: number;
  unplaced: number;
}

function measure(snapshot: Snapshot) {
  const times: number[] = [];
  let changes: Placement[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t = performance.now();
    changes = planChanges(decideSchedule(snapshot));
    if (i >= WARMUP) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { medianMs: round(median(times)), minMs: round(times[0]!), maxMs: round(times[times.length - 1]!), changes };
}

/** A settled cluster: the full decision applied. */
export function settle(snapshot: Snapshot): Snapshot {
  let s = snapshot;
  for (let i = 0; i < 3; i++) {
    const changes = planChanges(decideSchedule(s));
    if (changes.length === 0) break;
    s = applyChanges(s, changes);
  }
  return s;
}

/** `n` changed units: a third new, a third stopped (inactive), a third launched with new requirements. */
export function changeUnits(settled: Snapshot, n: number, seed: number): Snapshot {
  const units: Unit[] = [...settled.units];
  const step = Math.max(1, Math.floor(units.length / n));
  for (let k = 0; k < n; k++) {
    const kind = k % 3;
    if (kind === 0) {
      units.push(xUnit(`bench-new-${seed}-${k}.service`, k % 2 ? { MachineMetadata: "region=east" } : { Conflicts: `bench-new-${seed}-*` }));
    } else {
      const i = (k * step + seed) % units.length;
      const u = units[i]!;
      units[i] = kind === 1 ? { ...u, desiredState: "inactive" } : { ...u, desiredState: u.desiredState === "inactive" ? "launched" : u.desiredState };
    }
  }
  return { ...settled, units };
}

export function scenario(label: string, build: () => Snapshot): Row {
  const snapshot = build();
  const r = measure(snapshot);
  const placed = r.changes.filter((c) => c.machineId !== "").length;
  const unplaced = r.changes.filter((c) => c.machineId === "" && c.reason !== "").length;
  return { label, units: snapshot.units.length, machines: snapshot.machines.length, medianMs: r.medianMs, minMs: r.minMs, maxMs: r.maxMs, changes: r.changes.length, placed, unplaced };
}

/** The delta from settled to changed (units only), and the one that puts it back. */
export function unitDelta(settled: Snapshot, changed: Snapshot): { delta: Delta; inverse: Delta } {
  const before = new Map(settled.units.map((u) => [u.name, u]));
  const units = changed.units.filter((u) => before.get(u.name) !== u);
  const inverse = {
    units: units.filter((u) => before.has(u.name)).map((u) => before.get(u.name)!),
    removedUnits: units.filter((u) => !before.has(u.name)).map((u) => u.name),
  };
  return { delta: { units }, inverse };
}

/** The incremental scheduler: kept from a settled cluster; each run applies one round's delta
 * and decides, then (not timed) puts the cluster back with the inverse delta. */
export function incremental(settled: Snapshot, label: string, build: () => { delta: Delta; inverse: Delta }): Row & { kept: number; tried: number } {
  const inc = IncrementalScheduler.fromSnapshot(settled);
  inc.decide();
  const { delta, inverse } = build();
  const times: number[] = [];
  let changes: Placement[] = [];
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
    medianMs: fine(median(times)),
    minMs: fine(times[0]!),
    maxMs: fine(times[times.length - 1]!),
    changes: changes.length,
    placed: changes.filter((c) => c.machineId !== "").length,
    unplaced,
    kept: stats.kept,
    tried: stats.tried,
  };
}

/** How long building the incremental scheduler from a snapshot takes (median of 3). */
export function initialBuild(settled: Snapshot): number {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    IncrementalScheduler.fromSnapshot(settled).decide();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return round(times[1]!);
}

// The engine's decision: a pure function from a cluster snapshot to placement changes, with
// fleet 1.0's semantics (scheduler.md beside this file defines the words and every rule).
//
//   snapshot (units, stored placements, live machines)
//     -> resolve   each unit's [X-Fleet] requirements against the machines and the other units
//     -> keep      every stored placement that is still valid, targets before followers
//                  (machine alive, MachineID, MachineMetadata, MachineOf, Conflicts, Replaces)
//     -> place     the rest, least-loaded eligible machine first, machine id breaking ties;
//                  a unit being placed takes the machine of a unit it replaces, which moves on
//     -> diff      one change per unit whose machine or unplaced-reason differs from the store
//
// Global units and units whose desired state is inactive are never placed by the engine.
import { explainUnplaced, NO_MACHINES } from "./schedule-reasons.js";
import { compareRecs, resolveUnits } from "./schedule-relations.js";
import { NO_REQUIRED_MACHINE, ScheduleState, UnitRec, type NameIndex } from "./schedule-state.js";
import { describeMetadata } from "./metadata-match.js";
import type { Machine, Placement, Unit } from "./types.js";
import { isGlobalUnit } from "./x-fleet.js";

export { NO_MACHINES };

export interface ClusterSnapshot {
  readonly units: readonly Unit[];
  /** The stored placements, including unplaced units' reasons (machineId ""). */
  readonly placements: readonly Placement[];
  readonly machines: readonly Machine[];
}

export const LEAST_LOADED = "least-loaded eligible machine";

/** True when the engine places this unit on one machine (not inactive, not global). */
export function wantsPlacement(unit: Unit): boolean {
  return unit.desiredState !== "inactive" && !isGlobalUnit(unit.options);
}

/** Placement changes that take the cluster from the snapshot to the desired schedule. */
export function decideSchedule(snapshot: ClusterSnapshot): Placement[] {
  const stored = new Map<string, Placement>();
  for (const p of snapshot.placements) stored.set(p.unitName, p);
  const state = new ScheduleState(snapshot.machines);
  const { order, names } = resolveUnits(snapshot.units, stored, state);
  keepValidPlacements(order, state);
  placeTheRest(order, state);
  return diff(snapshot, stored, state, names);
}

// ---------------------------------------------------------------------------------------
// keep

function keepValidPlacements(order: readonly UnitRec[], state: ScheduleState): void {
  for (const rec of order) {
    const id = rec.stored?.machineId;
    if (!id) continue;
    const m = state.machineIndex(id);
    if (m === undefined) {
      rec.note = `machine ${id} went away`;
      continue;
    }
    const why = invalidOn(rec, m, state);
    if (why === undefined) state.add(rec, m);
    else rec.note = why;
  }
  // A unit and one it replaces never share a machine: the replaced one moves.
  for (const rec of order) {
    if (rec.machine < 0) continue;
    for (const replaced of rec.replaces) {
      if (replaced.machine === rec.machine) evict(replaced, `replaced by ${rec.name} on machine ${machineId(state, rec.machine)}`, state, []);
    }
  }
}

/** Why `rec` may not stay on machine `m` (the units kept so far being there), or undefined. */
function invalidOn(rec: UnitRec, m: number, state: ScheduleState): string | undefined {
  const id = machineId(state, m);
  if (rec.cycle !== undefined) return rec.cycle;
  if (rec.requiredMachine !== NO_REQUIRED_MACHINE && rec.requiredMachine !== m) return `machine ${id} is not MachineID=${rec.req.machineId}`;
  if (!rec.group.has(m)) return `machine ${id} no longer matches MachineMetadata ${describeMetadata(rec.req.metadata)}`;
  if (rec.targetProblem !== undefined) return rec.targetProblem;
  for (const target of rec.targets) {
    if (target.machine !== m) return target.machine < 0 ? `MachineOf=${target.name} is not scheduled` : `MachineOf=${target.name} moved`;
  }
  for (const partner of rec.circular) {
    if (partner.machine >= 0) return `circular Replaces with ${partner.name}: only ${partner.name} is placed`;
  }
  if (state.blocked(rec, m, true)) {
    const conflicting = state.conflictingUnits(rec, m)[0];
    if (conflicting !== undefined) return `conflicts with ${conflicting.name} on machine ${id}`;
    const replacer = rec.replacedBy.find((r) => r.machine === m);
    return `replaced by ${replacer?.name ?? "another unit"} on machine ${id}`;
  }
  return undefined;
}

/** Takes `rec` off its machine, and its followers there with it (they move together). */
function evict(rec: UnitRec, note: string, state: ScheduleState, requeue: UnitRec[]): void {
  const stack: Array<[UnitRec, string]> = [[rec, note]];
  while (stack.length > 0) {
    const [r, why] = stack.pop() as [UnitRec, string];
    const m = r.machine;
    if (m < 0) continue;
    state.remove(r);
    r.note = why;
    requeue.push(r);
    for (const follower of r.followers) if (follower.machine === m) stack.push([follower, `MachineOf=${r.name} moved`]);
  }
}

// ---------------------------------------------------------------------------------------
// place

function placeTheRest(order: readonly UnitRec[], state: ScheduleState): void {
  let queue = order.filter((r) => r.machine < 0);
  // A pass ends in a final state unless units were pushed off machines during it: a push
  // frees a place another unit may have been refused earlier in the pass. Pushes are
  // bounded (a pushed unit never pushes), so this ends.
  for (;;) {
    const pushed: UnitRec[] = [];
    const failed: UnitRec[] = [];
    for (const rec of queue) {
      if (rec.machine >= 0) continue;
      const choice = choose(rec, state);
      if (choice < 0) failed.push(rec);
      else place(rec, choice, state, pushed);
    }
    if (pushed.length === 0) return;
    for (const r of pushed) r.pushed = true;
    queue = [...new Set([...failed, ...pushed])].sort(compareRecs);
  }
}

/** A unit being placed takes the machine of a unit it replaces, unless it was itself pushed. */
function mayPush(rec: UnitRec): boolean {
  return !rec.pushed && rec.replaces.length > 0;
}

/** The machine `rec` goes to, or -1 when none can take it now. */
function choose(rec: UnitRec, state: ScheduleState): number {
  if (rec.cycle !== undefined || rec.targetProblem !== undefined) return -1;
  for (const partner of rec.circular) if (partner.machine >= 0) return -1;
  const push = mayPush(rec);
  const single = singleCandidate(rec);
  if (single !== undefined) return single >= 0 && rec.group.has(single) && !state.blocked(rec, single, push) ? single : -1;
  if (push) {
    // A new unit takes the machine of a unit it replaces (the least loaded, if several).
    let best = -1;
    for (const replaced of rec.replaces) {
      const m = replaced.machine;
      if (m < 0 || !rec.group.has(m) || state.blocked(rec, m, true)) continue;
      if (best < 0 || (state.load[m] as number) < (state.load[best] as number) || (state.load[m] === state.load[best] && m < best)) best = m;
    }
    if (best >= 0) return best;
  }
  return state.leastLoaded(rec.group, (m) => !state.blocked(rec, m, push));
}

/** The one machine MachineID / MachineOf allow (-1: none), or undefined when they do not narrow. */
function singleCandidate(rec: UnitRec): number | undefined {
  let candidate: number | undefined;
  if (rec.requiredMachine !== NO_REQUIRED_MACHINE) candidate = rec.requiredMachine;
  for (const target of rec.targets) {
    if (target.machine < 0 || (candidate !== undefined && candidate !== target.machine)) return -1;
    candidate = target.machine;
  }
  return candidate;
}

function place(rec: UnitRec, m: number, state: ScheduleState, pushed: UnitRec[]): void {
  const push = mayPush(rec);
  state.add(rec, m);
  const taken: string[] = [];
  if (push) {
    for (const replaced of rec.replaces) {
      if (replaced.machine !== m) continue;
      taken.push(replaced.name);
      evict(replaced, `replaced by ${rec.name} on machine ${machineId(state, m)}`, state, pushed);
    }
  }
  rec.placeReason =
    rec.note ??
    (taken.length > 0
      ? `takes the machine of ${taken.join(", ")}, which it replaces`
      : rec.targets.length > 0
        ? `MachineOf=${rec.targets.map((t) => t.name).join(", ")}`
        : rec.requiredMachine !== NO_REQUIRED_MACHINE
          ? `MachineID=${rec.req.machineId}`
          : LEAST_LOADED);
}

// ---------------------------------------------------------------------------------------
// diff

function diff(snapshot: ClusterSnapshot, stored: ReadonlyMap<string, Placement>, state: ScheduleState, names: NameIndex): Placement[] {
  const changes: Placement[] = [];
  for (const [name, entry] of names.everyUnit) {
    const before = stored.get(name);
    if (!(entry instanceof UnitRec)) {
      if (before && (before.machineId !== "" || before.reason !== "")) changes.push({ unitName: name, machineId: "", reason: "" });
      continue;
    }
    if (entry.machine >= 0) {
      const id = machineId(state, entry.machine);
      if (before?.machineId !== id) changes.push({ unitName: name, machineId: id, reason: entry.placeReason || LEAST_LOADED });
      continue;
    }
    const reason = explainUnplaced(entry, state);
    if (!before || before.machineId !== "" || before.reason !== reason) changes.push({ unitName: name, machineId: "", reason });
  }
  const destroyed = new Set<string>();
  for (const p of snapshot.placements) {
    if (!names.everyUnit.has(p.unitName) && !destroyed.has(p.unitName)) {
      destroyed.add(p.unitName);
      changes.push({ unitName: p.unitName, machineId: "", reason: "" });
    }
  }
  return changes.sort((a, b) => (a.unitName < b.unitName ? -1 : a.unitName > b.unitName ? 1 : 0));
}

function machineId(state: ScheduleState, m: number): string {
  return (state.machines[m] as Machine).id;
}

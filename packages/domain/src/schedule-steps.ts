// The steps of a scheduling decision, shared by decideSchedule (one decision from nothing) and
// the incremental scheduler (the same steps over the units a change concerns):
//
//   keep    keepOne: a unit stays on its stored machine while every rule still holds there,
//           given the units kept before it (targets before followers, then by name); a unit
//           and one it replaces never share a machine (evictReplaced)
//   place   choose + place: least-loaded eligible machine, smallest machine id on ties; a unit
//           being placed takes the machine of a unit it replaces, which is pushed off
import { describeMetadata } from "./metadata-match.js";
import { compareRecs } from "./schedule-relations.js";
import { NO_REQUIRED_MACHINE, type ScheduleState, type UnitRec } from "./schedule-state.js";
import type { Machine } from "./types.js";

export const LEAST_LOADED = "least-loaded eligible machine";

// ---------------------------------------------------------------------------------------
// keep

export function keepValidPlacements(order: readonly UnitRec[], state: ScheduleState): void {
  for (const rec of order) keepOne(rec, state);
  // A unit and one it replaces never share a machine: the replaced one moves.
  for (const rec of order) evictReplaced(rec, state);
}

/** Keeps `rec` on its stored machine if it may stay there, given the units kept so far. */
export function keepOne(rec: UnitRec, state: ScheduleState): void {
  const id = rec.stored?.machineId;
  if (!id) return;
  const m = state.machineIndex(id);
  if (m === undefined) {
    rec.note = `machine ${id} went away`;
    return;
  }
  const why = invalidOn(rec, m, state);
  if (why === undefined) state.add(rec, m);
  else rec.note = why;
}

/** Pushes the units `rec` replaces off its machine. */
export function evictReplaced(rec: UnitRec, state: ScheduleState): void {
  if (rec.machine < 0) return;
  for (const replaced of rec.replaces) {
    if (replaced.machine === rec.machine) evict(replaced, `replaced by ${rec.name} on machine ${machineId(state, rec.machine)}`, state, []);
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
export function evict(rec: UnitRec, note: string, state: ScheduleState, requeue: UnitRec[]): void {
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

export function placeTheRest(order: readonly UnitRec[], state: ScheduleState): void {
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
export function mayPush(rec: UnitRec): boolean {
  return !rec.pushed && rec.replaces.length > 0;
}

/** The machine `rec` goes to, or -1 when none can take it now. */
export function choose(rec: UnitRec, state: ScheduleState): number {
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
      if (best < 0 || (state.load[m] as number) < (state.load[best] as number) || (state.load[m] === state.load[best] && state.idBefore(m, best))) best = m;
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

export function place(rec: UnitRec, m: number, state: ScheduleState, pushed: UnitRec[]): void {
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

export function machineId(state: ScheduleState, m: number): string {
  return (state.machines[m] as Machine).id;
}

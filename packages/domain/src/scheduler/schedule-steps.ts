// The steps of a scheduling decision, shared by decideSchedule (one decision from nothing) and
// the incremental scheduler (the same steps over the units a change concerns):
//
//   keep    keepOne: a unit stays on its stored machine while every rule still holds there,
//           given the units kept before it (targets before followers, then by name); a unit
//           and one it replaces never share a machine (evictReplaced)
//   place   choose + place: least-loaded eligible machine, smallest machine id on ties; a unit
//           being placed takes the machine of a unit it replaces, which is pushed off
import { blocked, conflictingUnits, mayPush } from "./feasibility.js";
import { describeMetadata } from "./metadata-match.js";
import type { ScheduleState } from "./schedule-state.js";
import { compareRecs, type Slot, type UnitRec } from "./unit-record.js";

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
  const m = rec.machine;
  if (m === undefined) return;
  for (const replaced of rec.replaces) {
    if (replaced.machine === m) evict(replaced, `replaced by ${rec.name} on machine ${state.machineId(m)}`, state, []);
  }
}

/** Why `rec` may not stay on machine `m` (the units kept so far being there), or undefined. */
function invalidOn(rec: UnitRec, m: Slot, state: ScheduleState): string | undefined {
  const id = state.machineId(m);
  if (rec.cycle !== undefined) return rec.cycle;
  if (rec.requiredMachine !== "any" && rec.requiredMachine !== m) return `machine ${id} is not MachineID=${rec.req.machineId}`;
  if (!rec.group.has(m)) return `machine ${id} no longer matches MachineMetadata ${describeMetadata(rec.req.metadata)}`;
  if (rec.targetProblem !== undefined) return rec.targetProblem;
  for (const target of rec.targets) {
    if (target.machine !== m) return target.machine === undefined ? `MachineOf=${target.name} is not scheduled` : `MachineOf=${target.name} moved`;
  }
  for (const partner of rec.circular) {
    if (partner.machine !== undefined) return `circular Replaces with ${partner.name}: only ${partner.name} is placed`;
  }
  if (blocked(rec, m, true)) {
    const conflicting = conflictingUnits(rec, m)[0];
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
    if (m === undefined) continue;
    state.remove(r);
    r.note = why;
    requeue.push(r);
    for (const follower of r.followers) if (follower.machine === m) stack.push([follower, `MachineOf=${r.name} moved`]);
  }
}

// ---------------------------------------------------------------------------------------
// place

export function placeTheRest(order: readonly UnitRec[], state: ScheduleState): void {
  let queue = order.filter((r) => r.machine === undefined);
  // A pass ends in a final state unless units were pushed off machines during it: a push
  // frees a place another unit may have been refused earlier in the pass. Pushes are
  // bounded (a pushed unit never pushes), so this ends.
  for (;;) {
    const pushed: UnitRec[] = [];
    const failed: UnitRec[] = [];
    for (const rec of queue) {
      if (rec.machine !== undefined) continue;
      const choice = choose(rec, state);
      if (choice === undefined) failed.push(rec);
      else place(rec, choice, state, pushed);
    }
    if (pushed.length === 0) return;
    for (const r of pushed) r.pushed = true;
    queue = [...new Set([...failed, ...pushed])].sort(compareRecs);
  }
}

/** The machine `rec` goes to, or undefined when none can take it now. */
export function choose(rec: UnitRec, state: ScheduleState): Slot | undefined {
  if (rec.cycle !== undefined || rec.targetProblem !== undefined) return undefined;
  for (const partner of rec.circular) if (partner.machine !== undefined) return undefined;
  const push = mayPush(rec);
  const single = singleCandidate(rec);
  if (single === "none") return undefined;
  if (single !== "any") return rec.group.has(single) && !blocked(rec, single, push) ? single : undefined;
  if (push) {
    // A new unit takes the machine of a unit it replaces (the least loaded, if several).
    let best: Slot | undefined;
    for (const replaced of rec.replaces) {
      const m = replaced.machine;
      if (m === undefined || !rec.group.has(m) || blocked(rec, m, true)) continue;
      if (best === undefined || (state.load[m] as number) < (state.load[best] as number) || (state.load[m] === state.load[best] && state.idBefore(m, best))) best = m;
    }
    if (best !== undefined) return best;
  }
  return state.leastLoaded(rec.group, (m) => !blocked(rec, m, push));
}

/** The one machine MachineID / MachineOf allow, "none" when they allow none, "any" when they do not narrow. */
function singleCandidate(rec: UnitRec): Slot | "none" | "any" {
  if (rec.requiredMachine === "not-live") return "none";
  let candidate: Slot | undefined = rec.requiredMachine === "any" ? undefined : rec.requiredMachine;
  for (const target of rec.targets) {
    if (target.machine === undefined || (candidate !== undefined && candidate !== target.machine)) return "none";
    candidate = target.machine;
  }
  return candidate ?? "any";
}

export function place(rec: UnitRec, m: Slot, state: ScheduleState, pushed: UnitRec[]): void {
  const push = mayPush(rec);
  state.add(rec, m);
  const taken: string[] = [];
  if (push) {
    for (const replaced of rec.replaces) {
      if (replaced.machine !== m) continue;
      taken.push(replaced.name);
      evict(replaced, `replaced by ${rec.name} on machine ${state.machineId(m)}`, state, pushed);
    }
  }
  rec.placeReason =
    rec.note ??
    (taken.length > 0
      ? `takes the machine of ${taken.join(", ")}, which it replaces`
      : rec.targets.length > 0
        ? `MachineOf=${rec.targets.map((t) => t.name).join(", ")}`
        : rec.requiredMachine !== "any"
          ? `MachineID=${rec.req.machineId}`
          : LEAST_LOADED);
}

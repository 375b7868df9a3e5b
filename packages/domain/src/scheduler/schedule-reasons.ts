// Why a unit the engine wants placed could not be: computed from the final state of a
// decision only (never from how it got there), so deciding again on the applied result
// gives the same text and no change is emitted twice.
import { conflictingUnits, mayPush as mayPushAway } from "./feasibility.js";
import { describeMetadata } from "./metadata-match.js";
import type { ScheduleView } from "./schedule-state.js";
import type { Slot, UnitRec } from "./unit-record.js";

export const NO_MACHINES = "no live machines to place the unit on";

export function explainUnplaced(rec: UnitRec, state: ScheduleView): string {
  if (rec.cycle !== undefined) return rec.cycle;
  const partner = rec.circular.find((p) => p.machine !== undefined);
  if (partner !== undefined) return `circular Replaces with ${partner.name}: only ${partner.name} is placed`;
  if (rec.targetProblem !== undefined) return rec.targetProblem;
  if (state.liveCount === 0) return NO_MACHINES;
  const mayPush = mayPushAway(rec);

  let candidate: Slot | undefined;
  let context = "";
  if (rec.requiredMachine !== "any") {
    if (rec.requiredMachine === "not-live") return `MachineID=${rec.req.machineId} is not a live machine`;
    candidate = rec.requiredMachine;
    context = `MachineID=${rec.req.machineId}`;
  }
  for (const target of rec.targets) {
    if (target.machine === undefined) return `MachineOf=${target.name} is not scheduled`;
    if (candidate !== undefined && candidate !== target.machine) {
      return `${context} and MachineOf=${target.name} name different machines (${state.machineId(candidate)}, ${state.machineId(target.machine)})`;
    }
    candidate = target.machine;
    context = `MachineOf=${target.name}`;
  }
  if (candidate !== undefined) return `${context}: ${whyNotOn(rec, candidate, state, mayPush)}`;

  if (rec.group.size === 0) return `no machine matches MachineMetadata ${describeMetadata(rec.req.metadata)}`;
  const inGroup = (r: UnitRec): boolean => r.machine !== undefined && rec.group.has(r.machine);
  const parts: string[] = [];
  const conflicting = conflictingUnits(rec).filter(inGroup);
  if (conflicting.length > 0) parts.push(`conflicts with ${list(conflicting)}`);
  const replacers = rec.replacedBy.filter(inGroup);
  if (replacers.length > 0) parts.push(`is replaced by ${list(replacers)}`);
  const replaced = mayPush ? [] : rec.replaces.filter(inGroup);
  if (replaced.length > 0) parts.push(`replaces ${list(replaced)}`);
  if (parts.length === 0) return "no eligible machine can take it";
  return `${parts.join(" and ")} on every eligible machine`;
}

/** Why the one machine `m` its MachineID / MachineOf allow cannot take `rec`. */
function whyNotOn(rec: UnitRec, m: Slot, state: ScheduleView, mayPush: boolean): string {
  const machine = state.machineId(m);
  if (!rec.group.has(m)) return `machine ${machine} does not match MachineMetadata ${describeMetadata(rec.req.metadata)}`;
  const conflicting = conflictingUnits(rec, m);
  if (conflicting.length > 0) return `conflicts with ${list(conflicting)} on machine ${machine}`;
  const replacers = rec.replacedBy.filter((r) => r.machine === m);
  if (replacers.length > 0) return `replaced by ${list(replacers)} on machine ${machine}`;
  const replaced = mayPush ? [] : rec.replaces.filter((r) => r.machine === m);
  if (replaced.length > 0) return `machine ${machine} runs ${list(replaced)}, which it replaces`;
  return `machine ${machine} cannot take it`;
}

/** "a.service", "a.service and b.service", "a.service, b.service, c.service and 4 more". */
function list(recs: readonly UnitRec[]): string {
  const names = [...new Set(recs.map((r) => r.name))].sort();
  if (names.length <= 1) return names.join("");
  if (names.length <= 3) return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

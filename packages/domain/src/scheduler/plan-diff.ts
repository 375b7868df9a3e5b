// The one placement diff: what a unit's stored placement must become, given where the decision
// left it. decideSchedule runs it over every unit of the snapshot; the incremental scheduler
// over the units a round reached (and keeps the result per unit between rounds).
import type { Placement, Unit } from "../types.js";
import type { PlanChange } from "./plan.js";
import type { ScheduleView } from "./schedule-state.js";
import { LEAST_LOADED } from "./schedule-steps.js";
import { UnitRec } from "./unit-record.js";

/**
 * The change for one unit name, or undefined when its stored placement stands. `entry` is the
 * unit (a UnitRec when the engine places it), undefined when the unit no longer exists;
 * `reasonOf` gives an unplaced unit's reason.
 */
export function diffUnit(
  name: string,
  before: Placement | undefined,
  entry: Unit | UnitRec | undefined,
  state: ScheduleView,
  reasonOf: (rec: UnitRec) => string,
): PlanChange | undefined {
  if (entry === undefined) return before ? { kind: "unschedule", unitName: name } : undefined;
  if (!(entry instanceof UnitRec)) {
    return before && (before.machineId !== "" || before.reason !== "") ? { kind: "unschedule", unitName: name } : undefined;
  }
  const from = before?.machineId ?? "";
  if (entry.machine !== undefined) {
    const machineId = state.machineId(entry.machine);
    if (from === machineId) return undefined;
    const reason = entry.placeReason || LEAST_LOADED;
    return from === "" ? { kind: "place", unitName: name, machineId, reason } : { kind: "move", unitName: name, from, machineId, reason };
  }
  const reason = reasonOf(entry);
  return !before || before.machineId !== "" || before.reason !== reason ? { kind: "unplaceable", unitName: name, from, reason } : undefined;
}

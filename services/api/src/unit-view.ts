// What a user sees of a unit: where it is placed and the state its machine reports. Pure.
import type { Placement, Unit, UnitState, UnitView } from "@fleet/domain";

/** The current state is what the agent of the unit's machine reports for these contents;
 * inactive otherwise (also while the agent still runs contents the unit had before it was
 * replaced, so that a wait for "launched" after a replace waits for the new contents). The
 * reason is the placement's, else the one that agent gives (why it cannot run the unit). */
export function unitView(unit: Unit, placement: Placement | undefined, states: readonly UnitState[]): UnitView {
  const machineId = placement?.machineId ?? "";
  const state = machineId ? states.find((s) => s.machineId === machineId && s.name === unit.name) : undefined;
  const current = state && (state.hash === "" || state.hash === unit.hash) ? state.currentState : "inactive";
  return { unit, machineId, currentState: current, reason: placement?.reason || state?.reason || "" };
}

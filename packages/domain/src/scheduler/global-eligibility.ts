// Where a global unit (Global=true) runs: decided by each agent for its own machine, never by
// the engine. A global unit runs on a machine whose metadata satisfies its MachineMetadata and
// that hosts no unit it conflicts with (its Conflicts matching the other unit, or the other
// unit's Conflicts matching it).
import { globMatches } from "./glob.js";
import { describeMetadata, machineMatchesMetadata } from "./metadata-match.js";
import type { Machine, Unit } from "../types.js";
import { readXFleet, type XFleetRequirements } from "../unit-files/x-fleet.js";

/**
 * True when the global `unit` may run on `machine`, else the reason why not. `unitsOnMachine`
 * are the units that run there (scheduled units and global units already accepted); the unit
 * itself and units whose desired state is inactive are ignored.
 */
export function globalUnitEligible(unit: Unit, machine: Machine, unitsOnMachine: readonly Unit[]): true | string {
  return eligible(unit, readXFleet(unit.name, unit.options), machine, unitsOnMachine, new Map());
}

/**
 * Each global unit of `globals` with whether it runs on `machine`, decided in unit-name order:
 * a global unit accepted earlier counts as running there for the ones after it, so of two
 * global units that conflict with each other the first by name runs.
 */
export function globalUnitsForMachine(
  globals: readonly Unit[],
  machine: Machine,
  scheduledOnMachine: readonly Unit[],
): Array<{ unit: Unit; eligible: true | string }> {
  const running = scheduledOnMachine.filter((u) => u.desiredState !== "inactive");
  const cache = new Map<Unit, XFleetRequirements>();
  const out: Array<{ unit: Unit; eligible: true | string }> = [];
  for (const unit of [...globals].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const result = eligible(unit, requirementsOf(unit, cache), machine, running, cache);
    out.push({ unit, eligible: result });
    if (result === true && unit.desiredState !== "inactive") running.push(unit);
  }
  return out;
}

function requirementsOf(unit: Unit, cache: Map<Unit, XFleetRequirements>): XFleetRequirements {
  let req = cache.get(unit);
  if (req === undefined) cache.set(unit, (req = readXFleet(unit.name, unit.options)));
  return req;
}

function eligible(
  unit: Unit,
  req: XFleetRequirements,
  machine: Machine,
  others: readonly Unit[],
  cache: Map<Unit, XFleetRequirements>,
): true | string {
  if (!machineMatchesMetadata(machine.metadata, req.metadata)) {
    return `machine ${machine.id} does not match MachineMetadata ${describeMetadata(req.metadata)}`;
  }
  for (const other of others) {
    if (other.name === unit.name || other.desiredState === "inactive") continue;
    const own = req.conflicts.find((p) => globMatches(p, other.name));
    if (own !== undefined) return `conflicts with ${other.name} on machine ${machine.id} (Conflicts=${own})`;
    const theirs = requirementsOf(other, cache).conflicts.find((p) => globMatches(p, unit.name));
    if (theirs !== undefined) return `conflicts with ${other.name} on machine ${machine.id} (its Conflicts=${theirs})`;
  }
  return true;
}

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
import { resolveUnits } from "./schedule-relations.js";
import { ScheduleState, UnitRec, type NameIndex } from "./schedule-state.js";
import { keepValidPlacements, LEAST_LOADED, machineId, placeTheRest } from "./schedule-steps.js";
import type { Machine, Placement, Unit } from "./types.js";

export { LEAST_LOADED, NO_MACHINES };

export interface ClusterSnapshot {
  readonly units: readonly Unit[];
  /** The stored placements, including unplaced units' reasons (machineId ""). */
  readonly placements: readonly Placement[];
  readonly machines: readonly Machine[];
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

// The engine's decision: a pure function from a cluster snapshot to a Plan (plan.ts), with
// fleet 1.0's semantics (README.md beside this file defines the words and every rule).
//
//   snapshot (units, stored placements, live machines)
//     -> resolve   each unit's [X-Fleet] requirements against the machines and the other units
//     -> keep      every stored placement that is still valid, targets before followers
//                  (machine alive, MachineID, MachineMetadata, MachineOf, Conflicts, Replaces)
//     -> place     the rest, least-loaded eligible machine first, machine id breaking ties;
//                  a unit being placed takes the machine of a unit it replaces, which moves on
//     -> diff      one change per unit whose machine or unplaced-reason differs from the store:
//                  place, move, unschedule or unplaceable, submitted to a write-only Planner
//
// Global units and units whose desired state is inactive are never placed by the engine.
import type { Machine, Placement, Unit } from "../types.js";
import { diffUnit } from "./plan-diff.js";
import { PlanBuilder, type Plan, type Planner } from "./plan.js";
import { explainUnplaced, NO_MACHINES } from "./schedule-reasons.js";
import { resolveUnits } from "./schedule-relations.js";
import { ScheduleState, type ScheduleView } from "./schedule-state.js";
import { keepValidPlacements, LEAST_LOADED, placeTheRest } from "./schedule-steps.js";
import type { NameIndex } from "./name-index.js";
import type { UnitRec } from "./unit-record.js";

export { LEAST_LOADED, NO_MACHINES };

export interface ClusterSnapshot {
  readonly units: readonly Unit[];
  /** The stored placements, including unplaced units' reasons (machineId ""). */
  readonly placements: readonly Placement[];
  readonly machines: readonly Machine[];
}

/** The plan that takes the cluster from the snapshot to the desired schedule. */
export function decideSchedule(snapshot: ClusterSnapshot): Plan {
  const stored = new Map<string, Placement>();
  for (const p of snapshot.placements) stored.set(p.unitName, p);
  const state = new ScheduleState(snapshot.machines);
  const { order, names } = resolveUnits(snapshot.units, stored, state);
  keepValidPlacements(order, state);
  placeTheRest(order, state);
  const planner = new PlanBuilder();
  diff(snapshot, stored, state, names, planner);
  return planner.build();
}

function diff(snapshot: ClusterSnapshot, stored: ReadonlyMap<string, Placement>, state: ScheduleView, names: NameIndex, planner: Planner): void {
  const reasonOf = (rec: UnitRec): string => explainUnplaced(rec, state);
  for (const [name, entry] of names.everyUnit) {
    const change = diffUnit(name, stored.get(name), entry, state, reasonOf);
    if (change !== undefined) planner.submit(change);
  }
  const destroyed = new Set<string>();
  for (const p of snapshot.placements) {
    if (!names.everyUnit.has(p.unitName) && !destroyed.has(p.unitName)) {
      destroyed.add(p.unitName);
      planner.submit({ kind: "unschedule", unitName: p.unitName });
    }
  }
}

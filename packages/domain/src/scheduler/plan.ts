// The scheduler's output: a typed plan (Nomad's shape), one change per unit whose stored
// placement must change, built through a write-only Planner:
//
//   place        a unit stored nowhere goes to a machine
//   move         a unit stored on one machine goes to another
//   unschedule   a stored placement is deleted (the unit was destroyed, is inactive or global)
//   unplaceable  a wanted unit is on no machine, with the reason (taken off `from` when it
//                was stored on one)
//
// The registry stores placements; planChanges turns a plan into the placement records the
// engine writes (ApplySchedule): machineId "" with a reason for unplaceable, "" and "" to delete.
import type { Placement } from "../types.js";

export interface PlaceUnit {
  readonly kind: "place";
  readonly unitName: string;
  readonly machineId: string;
  /** Why this machine: "least-loaded eligible machine", "MachineOf=…", "MachineID=…", … */
  readonly reason: string;
}

export interface MoveUnit {
  readonly kind: "move";
  readonly unitName: string;
  /** The machine it is stored on. */
  readonly from: string;
  readonly machineId: string;
  readonly reason: string;
}

export interface UnscheduleUnit {
  readonly kind: "unschedule";
  readonly unitName: string;
}

export interface UnplaceableUnit {
  readonly kind: "unplaceable";
  readonly unitName: string;
  /** The machine it is stored on ("" when none). */
  readonly from: string;
  readonly reason: string;
}

export type PlanChange = PlaceUnit | MoveUnit | UnscheduleUnit | UnplaceableUnit;

/** Each list sorted by unit name; a unit appears at most once in the whole plan. */
export interface Plan {
  readonly place: readonly PlaceUnit[];
  readonly move: readonly MoveUnit[];
  readonly unschedule: readonly UnscheduleUnit[];
  readonly unplaceable: readonly UnplaceableUnit[];
}

/** Where a decision writes its changes (write-only: it never reads the plan back). */
export interface Planner {
  submit(change: PlanChange): void;
}

export class PlanBuilder implements Planner {
  private readonly changes: PlanChange[] = [];

  submit(change: PlanChange): void {
    this.changes.push(change);
  }

  build(): Plan {
    const plan = { place: [] as PlaceUnit[], move: [] as MoveUnit[], unschedule: [] as UnscheduleUnit[], unplaceable: [] as UnplaceableUnit[] };
    for (const c of this.changes.sort(byUnitName)) {
      if (c.kind === "place") plan.place.push(c);
      else if (c.kind === "move") plan.move.push(c);
      else if (c.kind === "unschedule") plan.unschedule.push(c);
      else plan.unplaceable.push(c);
    }
    return plan;
  }
}

export const EMPTY_PLAN: Plan = Object.freeze({ place: [], move: [], unschedule: [], unplaceable: [] });

export function planSize(plan: Plan): number {
  return plan.place.length + plan.move.length + plan.unschedule.length + plan.unplaceable.length;
}

/** The placement record a change writes (what ApplySchedule carries). */
export function changeToPlacement(change: PlanChange): Placement {
  switch (change.kind) {
    case "place":
    case "move":
      return { unitName: change.unitName, machineId: change.machineId, reason: change.reason };
    case "unschedule":
      return { unitName: change.unitName, machineId: "", reason: "" };
    case "unplaceable":
      return { unitName: change.unitName, machineId: "", reason: change.reason };
  }
}

/** The plan as the placement records to write, sorted by unit name. */
export function planChanges(plan: Plan): Placement[] {
  const all: PlanChange[] = [...plan.place, ...plan.move, ...plan.unschedule, ...plan.unplaceable];
  return all.sort(byUnitName).map(changeToPlacement);
}

/** The stored placements after `changes` are written (a change with machineId "" and reason "" deletes). */
export function applyPlacements(stored: readonly Placement[], changes: readonly Placement[]): Placement[] {
  const placements = new Map(stored.map((p) => [p.unitName, p]));
  for (const c of changes) {
    if (c.machineId === "" && c.reason === "") placements.delete(c.unitName);
    else placements.set(c.unitName, c);
  }
  return [...placements.values()];
}

function byUnitName(a: PlanChange, b: PlanChange): number {
  return a.unitName < b.unitName ? -1 : a.unitName > b.unitName ? 1 : 0;
}

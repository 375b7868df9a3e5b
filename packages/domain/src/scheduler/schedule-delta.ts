// What the incremental scheduler is told between decisions, and what it reports of one.
import type { Machine, Placement, Unit } from "../types.js";

/** What changed since the last apply. A placement with machineId "" and reason "" is a deleted one. */
export interface ScheduleDelta {
  readonly units?: readonly Unit[];
  readonly removedUnits?: readonly string[];
  /** Machines that joined or changed (metadata as the scheduler sees it: API overrides applied). */
  readonly machines?: readonly Machine[];
  readonly removedMachines?: readonly string[];
  /** Stored placements written. */
  readonly placements?: readonly Placement[];
  readonly removedPlacements?: readonly string[];
}

/** Work done by the last decide(), for logs and benchmarks. */
export interface DecideStats {
  /** Units taken off and kept again. */
  readonly kept: number;
  /** Units a pass tried to place. */
  readonly tried: number;
  readonly changes: number;
}

/** The units of a snapshot, the first of each name (as decideSchedule counts them). */
export function firstOfEachName(units: readonly Unit[]): Unit[] {
  const first = new Map<string, Unit>();
  for (const u of units) if (!first.has(u.name)) first.set(u.name, u);
  return [...first.values()];
}

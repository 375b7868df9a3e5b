// The engine's decision: a pure function from a cluster snapshot to placement changes.
//
//   snapshot (units, placements, live machines)
//     -> unschedule what must move (machine gone, unit no longer wanted)
//     -> place what is unplaced, least-loaded first, machine id breaking ties
//     -> the changes, each with a human-readable reason
import type { Machine, Placement, Unit } from "./types.js";
import { isGlobalUnit } from "./x-fleet.js";

export interface ClusterSnapshot {
  readonly units: readonly Unit[];
  /** The stored placements, including unplaced units' reasons (machineId ""). */
  readonly placements: readonly Placement[];
  readonly machines: readonly Machine[];
}

export const NO_MACHINES = "no live machines to place the unit on";

/** True when the engine places this unit on one machine (not inactive, not global). */
export function wantsPlacement(unit: Unit): boolean {
  return unit.desiredState !== "inactive" && !isGlobalUnit(unit.options);
}

/** Placement changes that take the cluster from the snapshot to the desired schedule. */
export function decideSchedule(snapshot: ClusterSnapshot): Placement[] {
  const live = new Map(snapshot.machines.map((m) => [m.id, m]));
  const stored = new Map(snapshot.placements.map((p) => [p.unitName, p]));
  const load = new Map<string, number>(snapshot.machines.map((m) => [m.id, 0]));
  const changes: Placement[] = [];
  const toPlace: Unit[] = [];

  for (const unit of snapshot.units) {
    const current = stored.get(unit.name);
    const machineId = current?.machineId ?? "";
    if (!wantsPlacement(unit)) {
      if (machineId !== "" || (current && current.reason !== "")) {
        changes.push({ unitName: unit.name, machineId: "", reason: "" });
      }
      continue;
    }
    if (machineId !== "" && live.has(machineId)) {
      load.set(machineId, (load.get(machineId) ?? 0) + 1);
      continue;
    }
    toPlace.push(unit);
  }

  for (const unit of [...toPlace].sort((a, b) => compare(a.name, b.name))) {
    const previous = stored.get(unit.name)?.machineId ?? "";
    const target = leastLoaded(load);
    if (target === undefined) {
      if (previous !== "" || stored.get(unit.name)?.reason !== NO_MACHINES) {
        changes.push({ unitName: unit.name, machineId: "", reason: NO_MACHINES });
      }
      continue;
    }
    load.set(target, (load.get(target) ?? 0) + 1);
    const reason = previous === "" ? "least-loaded eligible machine" : `machine ${previous} went away`;
    changes.push({ unitName: unit.name, machineId: target, reason });
  }

  const known = new Set(snapshot.units.map((u) => u.name));
  for (const p of snapshot.placements) {
    if (!known.has(p.unitName)) {
      changes.push({ unitName: p.unitName, machineId: "", reason: "" });
    }
  }
  return changes;
}

function leastLoaded(load: ReadonlyMap<string, number>): string | undefined {
  let best: string | undefined;
  let bestLoad = Infinity;
  for (const [id, n] of load) {
    if (n < bestLoad || (n === bestLoad && best !== undefined && compare(id, best) < 0)) {
      best = id;
      bestLoad = n;
    }
  }
  return best;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

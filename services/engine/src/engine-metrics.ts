// The engine's series: reconcile rounds and their duration, placement decisions written, units
// found no machine for (placements_total's kind), leadership, machines declared lost, and whether
// its replica is synced. Units unplaceable now: the gateway's fleet_units_unplaceable.
import { Counter, Gauge, Histogram } from "@fleet/wire";

export const reconcileRounds = new Counter({
  name: "fleet_engine_reconcile_rounds_total",
  help: "Reconcile rounds the leader ran, by result: changed (wrote placements), unchanged, behind (its replica lagged), lost-leadership, error",
  labelNames: ["result"] as const,
});

export const reconcileSeconds = new Histogram({
  name: "fleet_engine_reconcile_seconds",
  help: "Duration of the leader's reconcile rounds, writes included",
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

export const placementsWritten = new Counter({
  name: "fleet_engine_placements_total",
  help: "Schedule changes written, by kind: placed (on a machine), unscheduled, unplaceable (no machine fits)",
  labelNames: ["kind"] as const,
});



export const machinesLost = new Counter({
  name: "fleet_engine_machines_lost_total",
  help: "Machines the leader declared lost (lease lapsed past the grace period): their units moved",
});

/** The gauges read at each scrape: leadership and the replica's sync (once per process). */
export function registerEngineGauges(isLeader: () => boolean, isSynced: () => boolean): void {
  new Gauge({
    name: "fleet_engine_leader",
    help: "1 while this engine holds leadership",
    collect() {
      this.set(isLeader() ? 1 : 0);
    },
  });
  new Gauge({
    name: "fleet_engine_replica_synced",
    help: "1 while the engine's replica follows the gateway's cluster stream",
    collect() {
      this.set(isSynced() ? 1 : 0);
    },
  });
}

// The gateway's own series, read from its watch cache at each scrape: units by desired state,
// unit states by current state and by systemd's active state, machines registered, units placed
// and units no machine fits; and how many machines heart-beat to this gateway (they share the
// gateways: each starts at the one its id hashes to).
import { Gauge } from "@fleet/wire";
import type { RegistryCache } from "./registry-cache.js";

/** Counts of `values`, by value. Pure. */
export function countBy<T>(values: Iterable<T>, key: (v: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(key(v), (out.get(key(v)) ?? 0) + 1);
  return out;
}

/** Registers the cache-backed gauges (once per process); `heard`: machines this gateway hears now. */
export function registerGatewayMetrics(cache: RegistryCache, heard: () => number): void {
  const setAll = (gauge: Gauge<"state">, counts: Map<string, number>) => {
    gauge.reset();
    for (const [state, n] of counts) gauge.set({ state }, n);
  };
  new Gauge({
    name: "fleet_units",
    help: "Units in the registry, by desired state (inactive, loaded, launched)",
    labelNames: ["state"] as const,
    collect() {
      setAll(this, countBy(cache.units.values(), (e) => e.value.desiredState));
    },
  });
  new Gauge({
    name: "fleet_unit_states",
    help: "Unit states the agents reported, by the fleet state they reached (inactive, loaded, launched)",
    labelNames: ["state"] as const,
    collect() {
      setAll(this, countBy(allStates(cache), (s) => s.currentState));
    },
  });
  new Gauge({
    name: "fleet_unit_active_states",
    help: "Unit states the agents reported, by systemd's ActiveState (active, failed, ...)",
    labelNames: ["state"] as const,
    collect() {
      setAll(this, countBy(allStates(cache), (s) => s.activeState || "unknown"));
    },
  });
  new Gauge({
    name: "fleet_machines_registered",
    help: "Machines holding a live registration (their lease not lapsed)",
    collect() {
      this.set(cache.machines.size);
    },
  });
  new Gauge({
    name: "fleet_gateway_machines_heard",
    help: "Machines whose heartbeats this gateway hears (and whose silence it would declare)",
    collect() {
      this.set(heard());
    },
  });
  new Gauge({
    name: "fleet_units_scheduled",
    help: "Units placed on a machine",
    collect() {
      let n = 0;
      for (const e of cache.schedule.values()) if (e.value.machineId !== "") n++;
      this.set(n);
    },
  });
  new Gauge({
    name: "fleet_units_unplaceable",
    help: "Units the engine found no machine for (their schedule record holds the reason)",
    collect() {
      let n = 0;
      for (const e of cache.schedule.values()) if (e.value.machineId === "" && e.value.reason !== "") n++;
      this.set(n);
    },
  });
}

function* allStates(cache: RegistryCache) {
  for (const perMachine of cache.states.values()) for (const e of perMachine.values()) yield e.value;
}

// The agent's series: D-Bus calls to systemd by member and outcome, with their latency, and
// whether the agent holds its machine's registration.
import { countedAndTimed, Counter, Gauge, Histogram, LATENCY_BUCKETS } from "@fleet/wire";

export const dbusCalls = new Counter({
  name: "fleet_agent_dbus_calls_total",
  help: "D-Bus calls the agent made to systemd (and the bus), by member (StartUnit, ListUnitsByNames, ...) and outcome (ok, error)",
  labelNames: ["member", "outcome"] as const,
});

export const dbusSeconds = new Histogram({
  name: "fleet_agent_dbus_call_seconds",
  help: "D-Bus call latency, waiting for a free call slot included, by member",
  labelNames: ["member"] as const,
  buckets: LATENCY_BUCKETS,
});

/** Times and counts one D-Bus call. */
export function countedDbusCall<T>(member: string, fn: () => Promise<T>): Promise<T> {
  return countedAndTimed(dbusCalls, dbusSeconds, "member", member, fn);
}

/** fleet_agent_registered, read at each scrape (once per process). */
export function registerAgentGauges(isRegistered: () => boolean): void {
  new Gauge({
    name: "fleet_agent_registered",
    help: "1 while the agent holds its machine's registration (a live lease)",
    collect() {
      this.set(isRegistered() ? 1 : 0);
    },
  });
}

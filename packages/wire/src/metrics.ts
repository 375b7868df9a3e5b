// The Prometheus series every fleet process shares (prom-client's default registry, one per
// process): gRPC served and called, etcd operations, reconcile hints, build info. Each service
// adds its own beside these (the engine's rounds and placements, the gateway's units and
// machines, the agent's D-Bus calls); docs/operations.md lists them all.
import { readFileSync } from "node:fs";
import { collectDefaultMetrics, Counter, Gauge, Histogram, register, type Registry } from "prom-client";

export { Counter, Gauge, Histogram, register as metricsRegistry };
export type { Registry };

/** Seconds buckets for calls that take milliseconds to seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const grpcServerHandled = new Counter({
  name: "fleet_grpc_server_handled_total",
  help: "gRPC calls this process answered, by service, method and status code",
  labelNames: ["service", "method", "code"] as const,
});

export const grpcServerSeconds = new Histogram({
  name: "fleet_grpc_server_handling_seconds",
  help: "Time from a gRPC call's arrival to its status, by service and method (streams: their whole life)",
  labelNames: ["service", "method"] as const,
  buckets: LATENCY_BUCKETS,
});

export const etcdOperations = new Counter({
  name: "fleet_etcd_operations_total",
  help: "etcd requests this process made, by operation (get, range, txn, put, delete, lease, watch) and outcome",
  labelNames: ["operation", "outcome"] as const,
});

export const etcdSeconds = new Histogram({
  name: "fleet_etcd_operation_seconds",
  help: "etcd request latency, by operation",
  labelNames: ["operation"] as const,
  buckets: LATENCY_BUCKETS,
});

export const hintsSent = new Counter({
  name: "fleet_hints_sent_total",
  help: "Reconcile hints published on NATS, by kind (engine, machine, machines)",
  labelNames: ["kind"] as const,
});

export const hintsReceived = new Counter({
  name: "fleet_hints_received_total",
  help: "Reconcile hints received from NATS, by kind (engine, machine, machines)",
  labelNames: ["kind"] as const,
});

const buildInfo = new Gauge({
  name: "fleet_build_info",
  help: "Always 1: the process's service, version and Node.js version",
  labelNames: ["service", "version", "node_version"] as const,
});

let started = false;

/** Names the process's series: build info, and Node's own process metrics (CPU, memory, event loop lag). */
export function startProcessMetrics(service: string, version: string): void {
  buildInfo.set({ service, version, node_version: process.versions.node }, 1);
  if (started) return;
  started = true;
  collectDefaultMetrics({ prefix: "fleet_" });
}

/** "/fleet.v1.FleetService/ListUnits" → service and method; other paths as they are. Pure. */
export function splitMethodPath(path: string): { service: string; method: string } {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return m ? { service: m[1] ?? "", method: m[2] ?? "" } : { service: "", method: path };
}

/**
 * Runs `fn`, timing it into `seconds` (labelled by `label`: its name) and counting it into
 * `calls` with its outcome, ok or error.
 */
export async function countedAndTimed<L extends string, T>(
  calls: Counter<L | "outcome">,
  seconds: Histogram<L>,
  label: L,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  const labels = { [label]: name } as Partial<Record<L, string>>;
  const end = seconds.startTimer(labels);
  try {
    const result = await fn();
    calls.inc({ ...labels, outcome: "ok" } as Partial<Record<L | "outcome", string>>);
    return result;
  } catch (err) {
    calls.inc({ ...labels, outcome: "error" } as Partial<Record<L | "outcome", string>>);
    throw err;
  } finally {
    end();
  }
}

/** Times one etcd request into fleet_etcd_operations_total and fleet_etcd_operation_seconds. */
export function timedEtcd<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  return countedAndTimed(etcdOperations, etcdSeconds, "operation", operation, fn);
}

/** fleet's version, as the wire package (built with every service) carries it. */
export function fleetVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

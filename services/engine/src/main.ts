// engine: keeps a replica of the cluster from the gateway's WatchCluster stream and campaigns for
// leadership; the leader reconciles the schedule when the replica changes, on NATS hints (optional
// wake-ups) and on a timer (the safety net).
import { hostname } from "node:os";
import { ENGINE_SUBJECT, ReconcileLoop } from "@fleet/domain";
import {
  configureTlsFromConfig,
  connectHintBus,
  createLogger,
  fleetVersion,
  loadServiceConfig,
  notifySystemdReady,
  PendingRequests,
  runMain,
  startOpsServer,
  startProcessMetrics,
  withRequestId,
} from "@fleet/wire";
import { registerEngineGauges } from "./engine-metrics.js";
import { engineConfigSchema } from "./config.js";
import { ClusterReplica } from "./cluster-replica.js";
import { Engine } from "./engine.js";
import { GatewayPlanner } from "./gateway-planner.js";
import { Leadership } from "./leadership.js";

/** How long after a machine's lease lapsed its AtMostOnce units may start elsewhere. */
function atMostOnceMarginMs(ttlMs: number): number {
  return Math.max(1000, ttlMs / 5);
}

runMain(async () => {
  const config = loadServiceConfig(engineConfigSchema);
  configureTlsFromConfig(config);
  const candidateId = config.engine_id || `${hostname()}-${process.pid}`;
  const log = createLogger("engine", config.verbosity).child({ engineId: candidateId });
  if (config.disable_engine) {
    log.info("disable_engine is set; exiting");
    return;
  }
  startProcessMetrics("engine", fleetVersion());
  const planner = new GatewayPlanner(config.gateway_endpoint);
  // A round woken by changes runs in the scope of the requests that made them (the cluster stream
  // and the hints name them): its logs and its ApplySchedule calls carry their id on to the
  // gateway, and from there to the agents.
  const requests = new PendingRequests();
  let loop: ReconcileLoop | undefined;
  const ttlMs = config.agent_ttl * 1000;
  const replica = new ClusterReplica(planner, log, {
    onChange: (what, requestIds) => {
      if (!leadership.current()) return;
      for (const id of requestIds) requests.add(id);
      loop?.trigger(what);
    },
    liveness: { ttlMs, unhealthyThreshold: config.engine_unhealthy_threshold, atMostOnceMarginMs: atMostOnceMarginMs(ttlMs) },
  });
  const leadership = new Leadership(planner, candidateId, config.engine_lease_ttl, log, () => {
    replica.leadershipGained();
    loop?.trigger("elected");
  });
  let wake: ReturnType<typeof setTimeout> | undefined;
  let wakeAt = Infinity;
  const wakeIn = (delayMs: number): void => {
    const at = Date.now() + delayMs;
    if (wake !== undefined && wakeAt <= at) return;
    clearTimeout(wake);
    wakeAt = at;
    wake = setTimeout(() => {
      wake = undefined;
      wakeAt = Infinity;
      loop?.trigger("liveness timer");
    }, delayMs);
  };
  const engine = new Engine(planner, replica, leadership, log, wakeIn);
  loop = new ReconcileLoop({
    intervalMs: config.engine_reconcile_interval * 1000,
    pass: (trigger) => {
      const ids = requests.take();
      return withRequestId(ids[0], () => engine.reconcile(ids.length > 1 ? `${trigger} (requests ${ids.join(", ")})` : trigger));
    },
    onError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, "reconcile failed"),
  });
  const hints = await connectHintBus(config.nats_servers, `engine-${candidateId}`, log);
  hints.subscribe(ENGINE_SUBJECT, (hint) => {
    // The leader key's own changes never reach the cluster stream: waiting for their revision
    // would only delay a new leader's first round.
    if (hint.what !== "engine leader") planner.observe(hint.revision);
    if (leadership.current()) {
      requests.add(hint.requestId);
      loop?.trigger(hint.what);
    } else if (hint.what === "engine leader") leadership.poke();
  });
  registerEngineGauges(() => leadership.current() !== undefined, () => replica.synced);
  // The engine serves no gRPC: its probes are /healthz and /readyz (ready = its replica is synced).
  const ops = await startOpsServer(config.metrics_listen, () => (replica.synced ? undefined : "replica not synced with the gateway's cluster stream"), log);
  replica.start();
  leadership.start();
  loop.start();
  log.info({ gateway: config.gateway_endpoint, agentTtl: config.agent_ttl, unhealthyThreshold: config.engine_unhealthy_threshold }, "engine started");
  notifySystemdReady(log);

  const stop = async () => {
    clearTimeout(wake);
    await loop?.stop();
    replica.stop();
    await leadership.stop();
    await hints.close();
    await ops?.close();
    planner.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
});

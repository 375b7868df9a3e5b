// engine: keeps a replica of the cluster from the gateway's WatchCluster stream and campaigns for
// leadership; the leader reconciles the schedule when the replica changes, on NATS hints (optional
// wake-ups) and on a timer (the safety net).
import { hostname } from "node:os";
import { ENGINE_SUBJECT, ReconcileLoop } from "@fleet/domain";
import { configureTlsFromConfig, connectHintBus, createLogger, loadServiceConfig, runMain } from "@fleet/wire";
import { engineConfigSchema } from "./config.js";
import { ClusterReplica } from "./cluster-replica.js";
import { Engine } from "./engine.js";
import { GatewayPlanner } from "./gateway-planner.js";
import { Leadership } from "./leadership.js";

runMain(async () => {
  const config = loadServiceConfig(engineConfigSchema);
  configureTlsFromConfig(config);
  const candidateId = config.engine_id || `${hostname()}-${process.pid}`;
  const log = createLogger("engine", config.verbosity).child({ engineId: candidateId });
  if (config.disable_engine) {
    log.info("disable_engine is set; exiting");
    return;
  }
  const planner = new GatewayPlanner(config.gateway_endpoint);
  let loop: ReconcileLoop | undefined;
  const leadership = new Leadership(planner, candidateId, config.engine_lease_ttl, log, () => loop?.trigger("elected"));
  const replica = new ClusterReplica(planner, log, { onChange: (what) => (leadership.current() ? loop?.trigger(what) : undefined) });
  const engine = new Engine(planner, replica, leadership, log);
  loop = new ReconcileLoop({
    intervalMs: config.engine_reconcile_interval * 1000,
    pass: (trigger) => engine.reconcile(trigger),
    onError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, "reconcile failed"),
  });
  const hints = await connectHintBus(config.nats_servers, `engine-${candidateId}`, log);
  hints.subscribe(ENGINE_SUBJECT, (hint) => {
    planner.observe(hint.revision);
    if (leadership.current()) loop?.trigger(hint.what);
    else if (hint.what === "engine leader") leadership.poke();
  });
  replica.start();
  leadership.start();
  loop.start();
  log.info({ gateway: config.gateway_endpoint }, "engine started");

  const stop = async () => {
    await loop?.stop();
    replica.stop();
    await leadership.stop();
    await hints.close();
    planner.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
});

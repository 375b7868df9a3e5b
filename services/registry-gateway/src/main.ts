// registry-gateway: the only etcd client. Serves RegistryService over gRPC from a watch cache
// and publishes a NATS hint for every committed change.
import { guardRegistryService } from "./caller-guard.js";
import {
  configureTlsFromConfig,
  connectHintBus,
  createLogger,
  fleetVersion,
  loadServiceConfig,
  notifySystemdReady,
  RegistryServiceService,
  runMain,
  serve,
  shutdown,
  startOpsServer,
  startProcessMetrics,
} from "@fleet/wire";
import { registerGatewayMetrics } from "./gateway-metrics.js";
import { gatewayConfigSchema, validateGatewayConfig } from "./config.js";
import { ClusterFeed } from "./cluster-feed.js";
import { EtcdStore, etcdTls } from "./etcd-store.js";
import { hintOn, hintSubjects } from "./hint-routes.js";
import { Keys } from "./keys.js";
import { RegistryCache } from "./registry-cache.js";
import { ScheduleRevisions } from "./schedule-revisions.js";
import { Registry } from "./registry.js";
import { LOST_ETCD, registryService } from "./registry-service.js";
import { UnitsFeed } from "./units-feed.js";

runMain(async () => {
  const config = loadServiceConfig(gatewayConfigSchema);
  validateGatewayConfig(config);
  configureTlsFromConfig(config);
  const log = createLogger("registry-gateway", config.verbosity);
  startProcessMetrics("registry-gateway", fleetVersion());
  const keys = new Keys(config.etcd_key_prefix.endsWith("/") ? config.etcd_key_prefix : `${config.etcd_key_prefix}/`);
  const cache = new RegistryCache(keys);
  registerGatewayMetrics(cache, () => registry?.machines.heartbeats.deadlines.size ?? 0);
  const auth = config.etcd_username ? { username: config.etcd_username, password: config.etcd_password } : undefined;
  const tls = etcdTls(config.etcd_cafile, config.etcd_certfile, config.etcd_keyfile);
  const store = new EtcdStore(
    keys,
    cache,
    { hosts: config.etcd_servers, requestTimeoutMs: config.etcd_request_timeout * 1000, ...(auth ? { auth } : {}), ...(tls ? { tls } : {}) },
    log,
  );
  const hints = await connectHintBus(config.nats_servers, "registry-gateway", log);
  const feed = new ClusterFeed(cache);
  // A gateway that lost etcd ends the engines' cluster streams: they re-sync (and treat the gap
  // as one) once it has re-read etcd, rather than wait on a stream that silently stopped.
  // Set below, once the registry exists.
  let registry: Registry | undefined;
  let health: { set(serving: boolean): void } | undefined;
  store.onHealth((healthy) => {
    health?.set(healthy);
    if (!healthy) feed.endAll(LOST_ETCD);
    else registry?.machines.heartbeats.regainedEtcd();
  });
  // Ready once the cache is loaded from etcd (store.start) and while etcd answers.
  let loaded = false;
  const ops = await startOpsServer(config.metrics_listen, () => (!loaded ? "loading the registry from etcd" : store.healthy ? undefined : "etcd unreachable"), log);
  // Set below, once the registry exists; the watch cannot deliver before store.start resolves.
  let unitsFeed: UnitsFeed | undefined;

  // When each machine's schedule last changed: heartbeats tell agents (schedule-revisions.ts).
  const scheduleRevisions = new ScheduleRevisions();
  const machineOf = (unit: string) => cache.schedule.get(unit)?.value.machineId ?? "";
  await store.start((changes, revision, keys) => {
    scheduleRevisions.note(changes, revision, machineOf);
    const requestId = store.requests.of(revision, keys);
    feed.publish(changes, revision, requestId);
    unitsFeed?.publish(changes);
    const subjects = new Map<string, string>();
    for (const change of changes) {
      const what = change.kind === "machine" ? `machine ${change.id}` : change.kind === "leader" ? "engine leader" : `${change.kind} ${"name" in change ? change.name : ""}`;
      for (const s of hintSubjects(change, machineOf)) subjects.set(s, what);
    }
    // The hint names the request that made the revision (revision-requests.ts).
    for (const [subject, what] of subjects) hints.publish(subject, hintOn(subject, { revision, what, ...(requestId ? { requestId } : {}) }, cache.machines.size, config.hint_spread_rate));
  });

  scheduleRevisions.loaded(cache.revision);
  registry = new Registry(store, keys, log, { healthy: () => store.healthy, auditRetentionSeconds: Math.max(60, Math.round(config.audit_retention)) });
  registry.machines.heartbeats.start();
  unitsFeed = new UnitsFeed(cache, (name) => registry.states.list("", [name]));
  const service = guardRegistryService(
    registryService(registry, cache, log, feed, unitsFeed, store, scheduleRevisions),
    { mutualTls: config.tls_cert_file !== "" && config.tls_ca_file !== "", controlPlane: new Set(config.gateway_control_plane_identities), sharedAgents: new Set(config.gateway_agent_identities) },
    log,
  );
  const served = await serve(config.gateway_listen, [[RegistryServiceService, service]], { reflection: "fleet" });
  const { server, port } = served;
  loaded = true;
  health = served.health;
  served.health.set(store.healthy);
  log.info({ address: config.gateway_listen, port }, "registry-gateway serving");
  notifySystemdReady(log);

  const stop = async () => {
    log.info("shutting down");
    registry?.machines.heartbeats.stop();
    await shutdown(server);
    await ops?.close();
    await hints.close();
    store.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
});

// agent: one per machine. Registers the machine, keeps its lease alive, and makes the machine's
// systemd run what the registry schedules here. Signals, as fleetd's:
//   SIGTERM, SIGINT  stop; leave the cluster (units unloaded, machine unregistered) when systemd
//                    is stopping the agent's unit, stay (units keep running) on a restart
//                    (shutdown-intent.ts)
//   SIGHUP           re-read fleet.conf and apply what can be applied (config-reload.ts)
import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { ALL_MACHINES_SUBJECT, hintDelayMs, isMachineId, machineSubject, ReconcileLoop, type Hint, type Machine } from "@fleet/domain";
import {
  AgentServiceService,
  configPathFromArgv,
  configureTlsFromConfig,
  connectHintBus,
  createLogger,
  fleetVersion,
  healthFollows,
  loadServiceConfig,
  logLevel,
  notifySystemdReady,
  PendingRequests,
  runMain,
  serve,
  shutdown,
  startOpsServer,
  startProcessMetrics,
  withRequestId,
  type Logger,
} from "@fleet/wire";
import { registerAgentGauges } from "./agent-metrics.js";
import { agentService } from "./agent-service.js";
import { AgentStateFile } from "./agent-state.js";
import { Agent } from "./agent.js";
import { ApiRelay, type RelayTls } from "./api-relay.js";
import { changesRegistration, planReload } from "./config-reload.js";
import { agentConfigSchema, apiSocketPath, httpTargets, validateAgentConfig, type AgentConfig } from "./config.js";
import { GatewayRegistry } from "./gateway-registry.js";
import { HeartbeatLoop } from "./heartbeat-loop.js";
import { loadInstanceId } from "./instance-id.js";
import { RegistrationRefused } from "./machine-lease.js";
import { decideShutdown, ownUnitFromCgroup, type LeaveOnStop, type OwnJob } from "./shutdown-intent.js";
import { DbusUnitManager } from "./systemd.js";
import { UnitFiles } from "./unit-files.js";

function readMachineId(path: string): string {
  const id = readFileSync(path, "utf8").trim();
  if (!isMachineId(id)) throw new Error(`${path} does not hold a 32-hex machine id`);
  return id;
}

function firstPublicIPv4(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The job systemd runs for this process's own unit (see shutdown-intent.ts); undefined when
 * it is not a systemd service or systemd does not say within 3 s. */
async function ownJob(systemd: DbusUnitManager, log: Logger): Promise<OwnJob> {
  const invocation = process.env.INVOCATION_ID;
  if (!invocation) return undefined;
  let unit: string | undefined;
  try {
    unit = ownUnitFromCgroup(readFileSync("/proc/self/cgroup", "utf8"));
  } catch {
    return undefined;
  }
  if (!unit) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 3000)));
  try {
    return await Promise.race([systemd.unitJob(unit, invocation), timeout]);
  } catch (err) {
    log.warn({ unit, err: message(err) }, "systemd did not say which job it runs for the agent's unit");
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** The TLS files' contents for the API relay's gRPC connections, when the cluster uses TLS. */
function relayTls(config: AgentConfig): RelayTls | undefined {
  if (config.tls_ca_file === "" && config.tls_cert_file === "") return undefined;
  const read = (path: string) => (path === "" ? undefined : readFileSync(path));
  const [ca, cert, key] = [read(config.tls_ca_file), read(config.tls_cert_file), read(config.tls_key_file)];
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

runMain(async () => {
  const configFile = configPathFromArgv(process.argv.slice(2)).path;
  let config = loadServiceConfig(agentConfigSchema);
  validateAgentConfig(config);
  configureTlsFromConfig(config);
  const tls = relayTls(config);
  const machineId = readMachineId(config.machine_id_file);
  const log = createLogger("agent", config.verbosity).child({ machineId });
  const publicIp = config.public_ip || firstPublicIPv4();
  startProcessMetrics("agent", fleetVersion());
  const state = new AgentStateFile(config.agent_state_dir, { machineId, publicIp }, log);
  state.set("starting");
  const instance = loadInstanceId(config.agent_state_dir, log);
  const listen = config.agent_listen || `${publicIp}:0`;
  const { server, port, health } = await serve(listen, [
    [
      AgentServiceService,
      agentService(log, {
        unitsDir: config.units_dir,
        apiIdentities: new Set(config.agent_api_identities),
        mutualTls: config.tls_cert_file !== "" && config.tls_ca_file !== "",
      }),
    ],
  ]);
  const host = listen.slice(0, listen.lastIndexOf(":"));
  const agentEndpoint = `${["", "0.0.0.0", "[::]"].includes(host) ? publicIp : host}:${port}`;
  let machine: Machine = { id: machineId, publicIp, metadata: config.metadata, agentEndpoint };
  // Machines share the gateways: each starts at the one its id hashes to (registry-connection.ts).
  const ttlMs = config.agent_ttl * 1000;
  const registry = new GatewayRegistry(config.gateway_endpoint, machineId).timeFor(ttlMs);
  const systemd = await DbusUnitManager.connect();
  // A refused registration (another machine holds this machine id) is said once, in the
  // agent's log and state; the calls it fails meanwhile are not news.
  const failed = (what: string) => (err: unknown, extra: Record<string, unknown> = {}) => {
    if (err instanceof RegistrationRefused) log.debug({ err: err.message }, `${what}: registration refused`);
    else log.warn({ err: message(err), ...extra }, what);
  };
  // A pass woken by hints runs in the scope of the requests behind them: its logs name them.
  const requests = new PendingRequests();
  const loop = new ReconcileLoop({
    intervalMs: config.agent_reconcile_interval * 1000,
    pass: (trigger) => {
      const ids = requests.take();
      return withRequestId(ids[0], () => agent.reconcile(ids.length > 1 ? `${trigger} (requests ${ids.join(", ")})` : trigger));
    },
    onError: (err) => failed("reconcile failed")(err),
  });
  const agent = new Agent(machine, config.agent_ttl, registry, systemd, new UnitFiles(config.units_dir), log, {
    requestPass: (why) => loop.trigger(why),
    instance,
    onRefused: (reason) => state.set(reason ? "refused" : "registered", reason),
  });
  const hints = await connectHintBus(config.nats_servers, `agent-${machineId}`, log);
  const onHint = (hint: Hint) => {
    registry.observe(hint.revision);
    requests.add(hint.requestId);
    // A hint every machine hears says over how long they spread their passes.
    loop.triggerAfter(hint.what, hintDelayMs(hint, Math.random));
  };
  hints.subscribe(machineSubject(machineId), onHint);
  hints.subscribe(ALL_MACHINES_SUBJECT, onHint);

  const heartbeat = new HeartbeatLoop({
    ttlMs,
    beat: async () => {
      await agent.heartbeat();
      if (agent.leaseId !== undefined && state.state !== "registered" && state.state !== "leaving") state.set("registered");
    },
    onError: (err, failures, retryInMs) => failed("heartbeat failed; retrying")(err, { failures, retryInMs: Math.round(retryInMs) }),
  });
  heartbeat.start();
  loop.start();
  // Ready while the agent holds its machine's registration.
  const registered = () => agent.leaseId !== undefined && state.state === "registered";
  registerAgentGauges(registered);
  const ready = () => (registered() ? undefined : `not registered (${state.state})`);
  const stopHealth = healthFollows(health, ready);
  const ops = await startOpsServer(config.metrics_listen, ready, log);
  log.info({ agentEndpoint, publicIp: machine.publicIp, metadata: machine.metadata, gateway: config.gateway_endpoint, instance }, "agent started");

  // fleet's API on this machine's socket, relayed to the api (api-relay.ts).
  let relay: ApiRelay | undefined;
  const relayWanted = () => apiSocketPath(config) !== "" && (config.api_endpoint.length > 0 || config.api_http_endpoint.length > 0);
  const syncRelay = async () => {
    if (relay && !relayWanted()) {
      await relay.close();
      log.info({ socket: relay.socketPath }, "fleet's API no longer served on this machine");
      relay = undefined;
    }
    if (relay || !relayWanted()) return;
    const r = new ApiRelay(apiSocketPath(config), () => ({ grpc: config.api_endpoint, http: httpTargets(config) }), log, () => tls);
    try {
      await r.listen();
      relay = r;
      log.info({ socket: r.socketPath, grpc: config.api_endpoint, http: httpTargets(config) }, "serving fleet's API on this machine, relayed to the api");
    } catch (err) {
      log.warn({ socket: r.socketPath, err: message(err) }, "fleet's API not served on this machine");
    }
  };
  await syncRelay();
  notifySystemdReady(log);

  const reload = async () => {
    log.info({ file: configFile }, "reloading configuration");
    let next: AgentConfig;
    try {
      next = loadServiceConfig(agentConfigSchema);
      validateAgentConfig(next);
      logLevel(next.verbosity);
    } catch (err) {
      log.error({ file: configFile, err: message(err) }, "configuration not reloaded: the agent goes on with the one it has");
      return;
    }
    const plan = planReload(config, next);
    // Only what the plan applies changes; the rest stays as the agent started with it.
    const kept = Object.fromEntries(plan.restartNeeded.map((k) => [k, config[k as keyof AgentConfig]]));
    config = { ...next, ...kept } as AgentConfig;
    if (plan.apply.includes("verbosity")) log.level = logLevel(config.verbosity);
    if (changesRegistration(plan)) {
      machine = { ...machine, publicIp: config.public_ip || firstPublicIPv4(), metadata: config.metadata };
      await agent.updateMachine(machine).catch((err: unknown) => failed("registering the changed machine failed; the heartbeats retry")(err));
    }
    await syncRelay();
    const line = plan.restartNeeded.length > 0 ? "configuration reloaded; the other changes take a restart of the agent (systemctl restart fleet)" : "configuration reloaded";
    log.info({ file: configFile, applied: plan.apply, restartNeeded: plan.restartNeeded }, line);
  };
  let reloading = Promise.resolve();
  process.on("SIGHUP", () => {
    reloading = reloading.then(reload);
  });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const job = await ownJob(systemd, log);
    const decision = decideShutdown(config.agent_leave_on_stop as LeaveOnStop, job);
    log.info({ signal, job: job === undefined ? "unknown" : job ?? "none", leave: decision.leave }, decision.why);
    await reloading;
    await loop.stop();
    await relay?.close();
    if (decision.leave) {
      // Units stop while the lease is kept alive (the engine moves nothing meanwhile); the
      // registration goes last, so the units run elsewhere only once they stopped here.
      state.set("leaving", decision.why);
      const t0 = performance.now();
      const { units, failed: notUnloaded } = await agent.unloadAll();
      const unloadMs = Math.round(performance.now() - t0);
      await heartbeat.stop();
      let unregistered = false;
      try {
        unregistered = await agent.release();
      } catch (err) {
        log.error({ err: message(err) }, "machine not unregistered: it leaves the cluster when its lease lapses");
      }
      const ms = Math.round(performance.now() - t0);
      if (notUnloaded.length > 0) log.error({ units: notUnloaded }, "units not unloaded: they may still run here");
      log.info(
        { units, notUnloaded: notUnloaded.length, unregistered, unloadMs, ms },
        unregistered
          ? "left the cluster: units stopped and unloaded, machine unregistered"
          : "units stopped and unloaded; no registration of this agent's to remove (none, or its lease lapses on its own)",
      );
      state.set("left");
      await agent.afterLeaving();
    } else {
      await heartbeat.stop();
      // The next agent adopts the units. One more renewal re-arms the at-most-once fence, so that
      // it has the whole fence delay to start and take over before systemd stops AtMostOnce units.
      await agent.heartbeat().catch((err: unknown) => log.debug({ err: message(err) }, "last renewal before exiting failed"));
      state.set("exited", decision.why);
    }
    stopHealth();
    await ops?.close();
    await shutdown(server);
    await hints.close();
    registry.close();
    systemd.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
});

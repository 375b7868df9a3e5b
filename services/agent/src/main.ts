// agent: one per machine. Registers the machine, keeps its lease alive, and makes the machine's
// systemd run what the registry schedules here.
import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { ALL_MACHINES_SUBJECT, machineSubject, ReconcileLoop } from "@fleet/domain";
import { AgentServiceService, connectHintBus, createLogger, configureTlsFromConfig, loadServiceConfig, runMain, serve, shutdown } from "@fleet/wire";
import { agentService } from "./agent-service.js";
import { Agent } from "./agent.js";
import { agentConfigSchema } from "./config.js";
import { GatewayRegistry } from "./gateway-registry.js";
import { HeartbeatLoop } from "./heartbeat-loop.js";
import { DbusUnitManager } from "./systemd.js";
import { UnitFiles } from "./unit-files.js";

function readMachineId(path: string): string {
  const id = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`${path} does not hold a 32-hex machine id`);
  return id;
}

function firstPublicIPv4(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

runMain(async () => {
  const config = loadServiceConfig(agentConfigSchema);
  configureTlsFromConfig(config);
  const machineId = readMachineId(config.machine_id_file);
  const log = createLogger("agent", config.verbosity).child({ machineId });
  const publicIp = config.public_ip || firstPublicIPv4();
  const listen = config.agent_listen || `${publicIp}:0`;
  const { server, port } = await serve(listen, [[AgentServiceService, agentService(log)]]);
  const host = listen.slice(0, listen.lastIndexOf(":"));
  const agentEndpoint = `${["", "0.0.0.0", "[::]"].includes(host) ? publicIp : host}:${port}`;
  const machine = { id: machineId, publicIp, metadata: config.metadata, agentEndpoint };
  const registry = new GatewayRegistry(config.gateway_endpoint);
  const ttlMs = config.agent_ttl * 1000;
  // A heartbeat that hangs must not hold the next one back for long: the retries (backoff
  // capped at agent_ttl/6) keep the lease alive through one lost call. Not shorter than the
  // heartbeat interval either: on a machine whose cores are busy a renewal may take a second or
  // more and still be in time, and failing it would only add load.
  registry.heartbeatDeadlineMs = Math.min(3000, Math.max(1000, ttlMs / 3));
  const systemd = await DbusUnitManager.connect();
  const loop = new ReconcileLoop({
    intervalMs: config.agent_reconcile_interval * 1000,
    pass: (trigger) => agent.reconcile(trigger),
    onError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, "reconcile failed"),
  });
  const agent = new Agent(machine, config.agent_ttl, registry, systemd, new UnitFiles(config.units_dir), log, {
    requestPass: (why) => loop.trigger(why),
  });
  const hints = await connectHintBus(config.nats_servers, `agent-${machineId}`, log);
  const onHint = (hint: { revision: number; what: string }) => {
    registry.observe(hint.revision);
    loop.trigger(hint.what);
  };
  hints.subscribe(machineSubject(machineId), onHint);
  hints.subscribe(ALL_MACHINES_SUBJECT, onHint);

  const heartbeat = new HeartbeatLoop({
    ttlMs,
    beat: () => agent.heartbeat(),
    onError: (err, failures, retryInMs) =>
      log.warn({ err: err instanceof Error ? err.message : String(err), failures, retryInMs: Math.round(retryInMs) }, "heartbeat failed; retrying"),
  });
  heartbeat.start();
  loop.start();
  log.info({ agentEndpoint, publicIp: machine.publicIp, metadata: machine.metadata, gateway: config.gateway_endpoint }, "agent started");

  const stop = async () => {
    await heartbeat.stop();
    await shutdown(server);
    await loop.stop();
    await hints.close();
    registry.close();
    systemd.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
});

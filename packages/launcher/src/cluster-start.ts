// startCluster: etcd, NATS, registry-gateway(s), engines, api as host processes, then nspawn
// machines each running the agent as a systemd service. Each phase records what it started
// in the state file before the next begins, so a failure stops exactly what was started.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { claimAddressBlock } from "./address-blocks.js";
import { ClusterHandle } from "./cluster-handle.js";
import { ADMIN_CLIENT_IDENTITY, makeClusterCertificates, SANDBOX_CONTROL_PLANE_IDENTITIES, serviceTlsEnv } from "./cluster-tls.js";
import { baseEnv, checkClusterOptions, serviceMain, type CheckedOptions, type ClusterMachineSpec, type ClusterOptions } from "./cluster-options.js";
import { machineServices, waitComponentReady, waitRegistered } from "./cluster-ready.js";
import { stopCluster } from "./cluster-stop.js";
import { replicaNames } from "./component-names.js";
import { startEtcdClusterLocal } from "./etcd.js";
import { bootMachine, createMachineFs, waitMachineReady } from "./machine.js";
import { machinePublicIp } from "./machine-spec.js";
import { startNatsLocal } from "./nats.js";
import { freePort, freePorts } from "./ports.js";
import { spawnLogged } from "./proc.js";
import { missingSshTools, portFreeOn, sandboxSshPort, startClusterSsh, trustHostKey } from "./ssh.js";
import { anyAlive, readState, writeState, type ClusterState, type ComponentKind, type ComponentRecord } from "./state.js";

/** What every phase works with. */
interface Start {
  state: ClusterState;
  root: string;
  svcDir: string;
  detached: boolean;
  log: (msg: string) => void;
  /** Settings of the gateways beyond the cluster's (FLEET_* variables). */
  gatewayEnv: Record<string, string>;
}

export async function startCluster(o: ClusterOptions): Promise<ClusterHandle> {
  const t0 = Date.now();
  const log = o.log ?? (() => {});
  const checked = checkClusterOptions(o);
  await clearLeftovers(checked.stateDir, log);
  // Machines' addresses of their own, even with other clusters up (address-blocks.ts), where
  // their sshd can listen.
  const missingSsh = missingSshTools();
  const sshPort = missingSsh.length === 0 ? await sandboxSshPort() : undefined;
  const state = await initialState(o, checked, sshPort);
  writeState(state);
  const gatewayEnv: Record<string, string> = o.hintSpreadRate === undefined ? {} : { FLEET_HINT_SPREAD_RATE: String(o.hintSpreadRate) };
  const s: Start = { state, root: checked.root, svcDir: join(checked.stateDir, "services"), detached: state.detached, log, gatewayEnv };
  try {
    const { etcdServers, natsUrl } = await startStoreAndBus(s, checked.etcdMembers);
    const gateway = await startGateways(s, checked.gatewayCount, etcdServers, natsUrl);
    await startEnginesAndApi(s, o.engines ?? 2, gateway, natsUrl);
    await startSsh(s, sshPort, missingSsh);
    await bootMachines(s, o.machines, o.readyTimeoutMs ?? 90_000);
    state.status = "up";
    writeState(state);
    log(`cluster ${state.cluster} up in ${Date.now() - t0} ms`);
    return new ClusterHandle(state);
  } catch (e) {
    state.status = "failed";
    writeState(state);
    if (!o.keepOnFailure) {
      log(`start failed; stopping what was started (logs kept in ${state.stateDir})`);
      await stopCluster(state, { removeState: false }).catch(() => {});
    }
    throw e;
  }
}

/** A previous run's state: refused while any of it is alive, else stopped and removed. */
async function clearLeftovers(stateDir: string, log: (msg: string) => void): Promise<void> {
  const existing = readState(stateDir);
  if (!existing) return;
  if (anyAlive(existing)) {
    throw new Error(`cluster ${existing.cluster} is already up (state in ${stateDir}, status ${existing.status}); stop it first (fleet-dev down)`);
  }
  log(`cleaning up leftovers of a previous run in ${stateDir}`);
  await stopCluster(existing, { removeState: true });
}

/** The state before anything runs; claims the cluster's address block (one where the
 * machines' sshd port is free, when there is ssh). */
async function initialState(o: ClusterOptions, c: CheckedOptions, sshPort: number | undefined): Promise<ClusterState> {
  const addressBlock = await claimAddressBlock(c.stateDir, c.cluster, {
    ...(sshPort !== undefined ? { usable: (b: string) => portFreeOn(o.machines.map((_, i) => machinePublicIp(i + 1, b)), sshPort) } : {}),
  });
  return {
    version: 1,
    cluster: c.cluster,
    stateDir: c.stateDir,
    repoRoot: c.root,
    createdAt: new Date().toISOString(),
    detached: o.detached ?? false,
    status: "starting",
    agentTtlSeconds: o.agentTtlSeconds ?? 5,
    reconcileIntervalSeconds: o.reconcileIntervalSeconds ?? 5,
    addressBlock,
    ...(o.auth ? { auth: { adminTokenFile: join(c.stateDir, "admin.token") } } : {}),
    ...(o.tls ? { tls: makeClusterCertificates(c.root, join(c.stateDir, "tls")) } : {}),
    endpoints: {},
    components: [],
    machines: [],
  };
}

async function startStoreAndBus(s: Start, etcdMembers: number): Promise<{ etcdServers: string[]; natsUrl: string }> {
  const { state, svcDir, detached } = s;
  s.log(etcdMembers === 1 ? "starting etcd and NATS" : `starting a ${etcdMembers}-member etcd and NATS`);
  const etcdNames = replicaNames("etcd", etcdMembers);
  const [etcd, nats] = await Promise.all([
    startEtcdClusterLocal({ dir: svcDir, members: etcdMembers, names: etcdNames, clusterToken: `fleet-${state.cluster}`, detached }),
    startNatsLocal({ dir: svcDir, detached }),
  ]);
  etcd.forEach((member, i) =>
    state.components.push({
      name: etcdNames[i]!,
      kind: "etcd",
      pid: member.pid,
      startTime: member.startTime,
      address: member.endpoint,
      logFile: member.logFile,
      dataDir: member.dataDir,
      argv: member.argv,
      healthUrl: `${member.metricsUrl}/health`,
      metricsUrl: `${member.metricsUrl}/metrics`,
    }),
  );
  state.components.push({ name: "nats", kind: "nats", pid: nats.pid, startTime: nats.startTime, address: nats.url, logFile: nats.logFile, argv: nats.argv });
  const etcdServers = etcd.map((m) => m.endpoint);
  state.endpoints.etcd = etcdServers[0]!;
  state.endpoints.etcdServers = etcdServers;
  state.endpoints.etcdMetrics = etcd[0]!.metricsUrl;
  state.endpoints.nats = nats.url;
  state.endpoints.natsMonitor = nats.monitorUrl;
  writeState(state);
  return { etcdServers, natsUrl: nats.url };
}

/** The FLEET_TLS_* files of a control-plane identity, under TLS. */
function tlsEnv(s: Start, identity: string): Record<string, string> {
  return s.state.tls ? serviceTlsEnv(s.state.tls, identity) : {};
}

/** Spawns one of our services (not waiting for it) and records it. */
async function startService(s: Start, name: string, kind: ComponentKind, env: Record<string, string>, listen?: string): Promise<ComponentRecord> {
  const svc = kind === "engine" ? "engine" : kind === "api" ? "api" : "registry-gateway";
  const logFile = join(s.svcDir, `${name}.log`);
  const argv = [process.execPath, serviceMain(s.root, svc)];
  // /metrics, /healthz and /readyz of every service, on a port of its own.
  const metricsListen = `127.0.0.1:${await freePort()}`;
  const fullEnv = { ...env, FLEET_METRICS_LISTEN: metricsListen };
  const p = await spawnLogged({ cmd: argv[0]!, args: argv.slice(1), env: { ...baseEnv(), ...fullEnv }, logFile, detached: s.detached, cwd: s.root });
  const rec: ComponentRecord = { name, kind, pid: p.pid, startTime: p.startTime, logFile, argv, env: fullEnv, metricsUrl: `http://${metricsListen}/metrics`, ...(listen ? { address: listen } : {}) };
  s.state.components.push(rec);
  writeState(s.state);
  return rec;
}

/** Starts the gateways; returns what every gateway client gets: all of them, comma
 * separated, in component order. */
async function startGateways(s: Start, count: number, etcdServers: string[], natsUrl: string): Promise<string> {
  const { state } = s;
  const gatewayNames = replicaNames("registry-gateway", count);
  s.log(count === 1 ? "starting registry-gateway" : `starting ${count} registry-gateways`);
  const gateways = (await freePorts(count)).map((port) => `127.0.0.1:${port}`);
  const gws: ComponentRecord[] = [];
  for (const [i, listen] of gateways.entries()) {
    gws.push(
      await startService(
        s,
        gatewayNames[i]!,
        "registry-gateway",
        {
          FLEET_ETCD_SERVERS: etcdServers.join(","),
          FLEET_NATS_SERVERS: natsUrl,
          FLEET_GATEWAY_LISTEN: listen,
          FLEET_AGENT_TTL: String(state.agentTtlSeconds),
          ...s.gatewayEnv,
          ...tlsEnv(s, "fleet-registry-gateway"),
          ...(state.tls ? { FLEET_GATEWAY_CONTROL_PLANE_IDENTITIES: SANDBOX_CONTROL_PLANE_IDENTITIES.join(",") } : {}),
        },
        listen,
      ),
    );
  }
  await Promise.all(gws.map((rec) => waitComponentReady(rec)));
  state.endpoints.gateway = gateways[0]!;
  state.endpoints.gateways = gateways;
  writeState(state);
  return gateways.join(",");
}

async function startEnginesAndApi(s: Start, engineCount: number, gateway: string, natsUrl: string): Promise<void> {
  const { state } = s;
  s.log(`starting ${engineCount} engines and the api`);
  const engines: Promise<ComponentRecord>[] = [];
  for (let i = 1; i <= engineCount; i++) {
    engines.push(
      startService(s, `engine-${i}`, "engine", {
        FLEET_GATEWAY_ENDPOINT: gateway,
        FLEET_NATS_SERVERS: natsUrl,
        FLEET_ENGINE_RECONCILE_INTERVAL: String(state.reconcileIntervalSeconds),
        FLEET_ENGINE_ID: `engine-${i}`,
        // The machines' agent_ttl: the engine's grace periods and AtMostOnce margins follow it.
        FLEET_AGENT_TTL: String(state.agentTtlSeconds),
        ...tlsEnv(s, "fleet-engine"),
      }),
    );
  }
  const api = `127.0.0.1:${await freePort()}`;
  const auth: Record<string, string> = {};
  if (state.auth) {
    // The first admin's token: the api accepts it (auth_bootstrap_token_file), fleet-dev exports it.
    writeFileSync(state.auth.adminTokenFile, `fleet_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
    auth.FLEET_AUTH = "true";
    auth.FLEET_AUTH_BOOTSTRAP_TOKEN_FILE = state.auth.adminTokenFile;
    // fleetctl's client certificate is an admin's, as fleet 1.0's fleetctl --cert-file would be.
    if (state.tls) auth.FLEET_AUTH_CERTIFICATE_ROLES = `${ADMIN_CLIENT_IDENTITY}=admin`;
  }
  // fleet's HTTP API v1 too: on TCP for clients, and on a unix socket in the state dir.
  const apiHttp = `127.0.0.1:${await freePort()}`;
  const apiRec = await startService(
    s,
    "api",
    "api",
    {
      FLEET_GATEWAY_ENDPOINT: gateway,
      FLEET_NATS_SERVERS: natsUrl,
      FLEET_API_LISTEN: api,
      FLEET_API_HTTP_LISTEN: apiHttp,
      FLEET_API_UNIX_SOCKET: join(state.stateDir, "fleet.sock"),
      ...auth,
      ...tlsEnv(s, "fleet-api"),
    },
    api,
  );
  await Promise.all([...(await Promise.all(engines)).map((rec) => waitComponentReady(rec)), waitComponentReady(apiRec)]);
  state.endpoints.api = api;
  state.endpoints.apiHttp = `${state.tls ? "https" : "http"}://${apiHttp}`;
  writeState(state);
}

async function startSsh(s: Start, sshPort: number | undefined, missingSsh: string[]): Promise<void> {
  if (sshPort === undefined) {
    s.log(`no ssh on the machines: ${missingSsh.join(", ")} missing (scripts/install.sh installs openssh-server)`);
    return;
  }
  s.state.ssh = await startClusterSsh({ stateDir: s.state.stateDir, port: sshPort, detached: s.detached });
  writeState(s.state);
  if (sshPort !== 22) s.log(`port 22 is taken on every address (a host sshd on all addresses?): the machines' sshd listens on ${sshPort}`);
}

async function bootMachines(s: Start, specs: ClusterMachineSpec[], timeoutMs: number): Promise<void> {
  const { state } = s;
  s.log(`booting ${specs.length} machine(s)`);
  const tBoot = Date.now();
  specs.forEach((spec, i) => {
    const m = createMachineFs({
      name: spec.name,
      index: i + 1,
      addressBlock: state.addressBlock,
      cluster: state.cluster,
      clusterDir: state.stateDir,
      metadata: spec.metadata ?? {},
      ...machineServices(state),
    });
    if (state.ssh && m.sshHostKey) trustHostKey(state.ssh, m.publicIp, m.sshHostKey);
    state.machines.push(m);
  });
  for (const m of state.machines) await bootMachine(m, { detached: s.detached, repoRoot: s.root });
  writeState(state);
  await Promise.all(state.machines.map((m) => waitMachineReady(m, timeoutMs)));
  writeState(state);
  s.log(`machines booted in ${Date.now() - tBoot} ms; waiting for agents to register`);
  await waitRegistered(state, timeoutMs);
}

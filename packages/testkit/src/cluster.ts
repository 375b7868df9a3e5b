// A whole sandbox cluster: etcd, NATS, registry-gateway, engines, api as host processes,
// then nspawn machines each running the agent as a systemd service.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { connect, unary, RegistryServiceClient } from "@fleet/wire";
import { isComponentName, replicaNames } from "./component-names.js";
import { etcdHealthy, etcdRejoinArgv, leaderEngineOf, startEtcdClusterLocal } from "./etcd.js";
import { startNatsLocal } from "./nats.js";
import { partitionMachine, healPartition, type PartitionRecord } from "./partition.js";
import { partitionChainName } from "./partition-rules.js";
import { freePort, freePorts, splitHostPort, waitForTcp } from "./ports.js";
import { isAlive, signal, sleep, spawnLogged, terminate, waitFor, waitForExit, logTail, WaitAborted } from "./proc.js";
import { validateName, machinePublicIp, DEFAULT_BASE_DIR } from "./machine-spec.js";
import { claimAddressBlock, releaseAddressBlock, DEFAULT_ADDRESS_BLOCK } from "./address-blocks.js";
import { clusterPublicKey, missingSshTools, portFreeOn, sandboxSshPort, startClusterSsh, stopClusterSsh, trustHostKey } from "./ssh.js";
import { forgetHostCommand } from "./ssh-spec.js";
import {
  bootMachine,
  containerPid1,
  createMachineFs,
  destroyMachine,
  execInMachine,
  killMachine,
  machineRunning,
  stopMachine,
  waitMachineReady,
  type CreateMachineOptions,
  type ExecResult,
  type MachineRecord,
} from "./machine.js";
import { repoRoot as defaultRepoRoot } from "./repo.js";
import {
  anyAlive,
  clientEnv,
  gatewayEndpoints,
  readState,
  refreshState,
  writeState,
  type ClusterState,
  type ComponentKind,
  type ComponentRecord,
} from "./state.js";

export interface ClusterMachineSpec {
  name: string;
  metadata?: Record<string, string>;
}

export interface ClusterOptions {
  machines: ClusterMachineSpec[];
  agentTtlSeconds?: number;
  reconcileIntervalSeconds?: number;
  /** Default /var/tmp/fleet-dev/<cluster>. Machines live in <stateDir>/<machine>. */
  stateDir?: string;
  /** Default: the state dir's base name (or "default"). Used in cgroup names. */
  cluster?: string;
  /** Processes in their own sessions, unref'd: they outlive this process (fleet-dev up). */
  detached?: boolean;
  repoRoot?: string;
  engines?: number;
  /** etcd members (default 1): named "etcd" when 1, else etcd-1..etcd-N. */
  etcdMembers?: number;
  /** registry-gateways (default 1): named "registry-gateway" when 1, else registry-gateway-1..-N.
   * Engines, the api and agents get all of them, comma separated, in FLEET_GATEWAY_ENDPOINT. */
  gateways?: number;
  /** Progress messages. */
  log?: (msg: string) => void;
  /** Boot + registration timeout. */
  readyTimeoutMs?: number;
  /** On failure leave processes running for inspection (default: stop them, keep logs). */
  keepOnFailure?: boolean;
}

export function defaultStateDir(cluster = "default"): string {
  return join(DEFAULT_BASE_DIR, cluster);
}

const SERVICES = ["registry-gateway", "engine", "api", "agent"] as const;

export function serviceMain(root: string, svc: (typeof SERVICES)[number]): string {
  return join(root, "services", svc, "dist", "main.js");
}

/** The parent's environment minus FLEET_* / FLEETCTL_* (they would leak into services). */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("FLEET")) env[k] = v;
  return env;
}

export async function startCluster(o: ClusterOptions): Promise<ClusterHandle> {
  const t0 = Date.now();
  const log = o.log ?? (() => {});
  const stateDir = resolve(o.stateDir ?? defaultStateDir(o.cluster));
  const cluster = o.cluster ?? basename(stateDir);
  validateName("cluster", cluster);
  const names = new Set<string>();
  for (const m of o.machines) {
    validateName("machine", m.name);
    if (names.has(m.name)) throw new Error(`duplicate machine name ${m.name}`);
    if (isComponentName(m.name)) throw new Error(`machine name ${m.name} is taken by a component (etcd[-N], nats, registry-gateway[-N], engine[-N], api): choose another`);
    names.add(m.name);
  }
  const etcdMembers = o.etcdMembers ?? 1;
  const gatewayCount = o.gateways ?? 1;
  for (const [what, n] of [["etcdMembers", etcdMembers], ["gateways", gatewayCount]] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`${what} must be an integer 1..9, got ${n}`);
  }
  const root = o.repoRoot ?? defaultRepoRoot();
  for (const svc of SERVICES) {
    if (!existsSync(serviceMain(root, svc))) throw new Error(`${serviceMain(root, svc)} is missing: build first (npx tsc -b tsconfig.build.json)`);
  }
  const existing = readState(stateDir);
  if (existing) {
    if (anyAlive(existing)) {
      throw new Error(`cluster ${existing.cluster} is already up (state in ${stateDir}, status ${existing.status}); stop it first (fleet-dev down)`);
    }
    log(`cleaning up leftovers of a previous run in ${stateDir}`);
    await stopCluster(existing, { removeState: true });
  }
  // Machines' addresses of their own, even with other clusters up (address-blocks.ts), where
  // their sshd can listen.
  const missingSsh = missingSshTools();
  const sshPort = missingSsh.length === 0 ? await sandboxSshPort() : undefined;
  const addressBlock = await claimAddressBlock(stateDir, cluster, {
    ...(sshPort !== undefined ? { usable: (b: string) => portFreeOn(o.machines.map((_, i) => machinePublicIp(i + 1, b)), sshPort) } : {}),
  });
  const state: ClusterState = {
    version: 1,
    cluster,
    stateDir,
    repoRoot: root,
    createdAt: new Date().toISOString(),
    detached: o.detached ?? false,
    status: "starting",
    agentTtlSeconds: o.agentTtlSeconds ?? 5,
    reconcileIntervalSeconds: o.reconcileIntervalSeconds ?? 5,
    addressBlock,
    endpoints: {},
    components: [],
    machines: [],
  };
  writeState(state);
  const detached = o.detached ?? false;
  const svcDir = join(stateDir, "services");
  const timeoutMs = o.readyTimeoutMs ?? 90_000;
  try {
    log(etcdMembers === 1 ? "starting etcd and NATS" : `starting a ${etcdMembers}-member etcd and NATS`);
    const etcdNames = replicaNames("etcd", etcdMembers);
    const [etcd, nats] = await Promise.all([
      startEtcdClusterLocal({ dir: svcDir, members: etcdMembers, names: etcdNames, clusterToken: `fleet-${cluster}`, detached }),
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

    const startService = async (name: string, kind: ComponentKind, env: Record<string, string>, listen?: string): Promise<ComponentRecord> => {
      const svc = kind === "engine" ? "engine" : kind === "api" ? "api" : "registry-gateway";
      const logFile = join(svcDir, `${name}.log`);
      const argv = [process.execPath, serviceMain(root, svc)];
      const p = await spawnLogged({ cmd: argv[0]!, args: argv.slice(1), env: { ...baseEnv(), ...env }, logFile, detached, cwd: root });
      const rec: ComponentRecord = { name, kind, pid: p.pid, startTime: p.startTime, logFile, argv, env, ...(listen ? { address: listen } : {}) };
      state.components.push(rec);
      writeState(state);
      return rec;
    };
    const waitService = (rec: ComponentRecord) => waitComponentReady(rec);

    const gatewayNames = replicaNames("registry-gateway", gatewayCount);
    log(gatewayCount === 1 ? "starting registry-gateway" : `starting ${gatewayCount} registry-gateways`);
    const gateways = (await freePorts(gatewayCount)).map((port) => `127.0.0.1:${port}`);
    const gws: ComponentRecord[] = [];
    for (const [i, listen] of gateways.entries()) {
      gws.push(
        await startService(
          gatewayNames[i]!,
          "registry-gateway",
          { FLEET_ETCD_SERVERS: etcdServers.join(","), FLEET_NATS_SERVERS: nats.url, FLEET_GATEWAY_LISTEN: listen, FLEET_AGENT_TTL: String(state.agentTtlSeconds) },
          listen,
        ),
      );
    }
    await Promise.all(gws.map(waitService));
    state.endpoints.gateway = gateways[0]!;
    state.endpoints.gateways = gateways;
    writeState(state);
    // What every gateway client gets: all of them, comma separated, in component order.
    const gateway = gateways.join(",");

    log(`starting ${o.engines ?? 2} engines and the api`);
    const engines: Promise<ComponentRecord>[] = [];
    for (let i = 1; i <= (o.engines ?? 2); i++) {
      engines.push(
        startService(`engine-${i}`, "engine", {
          FLEET_GATEWAY_ENDPOINT: gateway,
          FLEET_NATS_SERVERS: nats.url,
          FLEET_ENGINE_RECONCILE_INTERVAL: String(state.reconcileIntervalSeconds),
          FLEET_ENGINE_ID: `engine-${i}`,
          // The machines' agent_ttl: the engine's grace periods and AtMostOnce margins follow it.
          FLEET_AGENT_TTL: String(state.agentTtlSeconds),
        }),
      );
    }
    const api = `127.0.0.1:${await freePort()}`;
    // fleet's HTTP API v1 too: on TCP for clients, and on a unix socket in the state dir.
    const apiHttp = `127.0.0.1:${await freePort()}`;
    const apiRec = await startService(
      "api",
      "api",
      {
        FLEET_GATEWAY_ENDPOINT: gateway,
        FLEET_NATS_SERVERS: nats.url,
        FLEET_API_LISTEN: api,
        FLEET_API_HTTP_LISTEN: apiHttp,
        FLEET_API_UNIX_SOCKET: join(state.stateDir, "fleet.sock"),
      },
      api,
    );
    await Promise.all([...(await Promise.all(engines)).map(waitService), waitService(apiRec)]);
    state.endpoints.api = api;
    state.endpoints.apiHttp = `http://${apiHttp}`;
    writeState(state);

    if (sshPort !== undefined) {
      state.ssh = await startClusterSsh({ stateDir, port: sshPort, detached });
      writeState(state);
      if (sshPort !== 22) log(`port 22 is taken on every address (a host sshd on all addresses?): the machines' sshd listens on ${sshPort}`);
    } else {
      log(`no ssh on the machines: ${missingSsh.join(", ")} missing (scripts/install.sh installs openssh-server)`);
    }

    log(`booting ${o.machines.length} machine(s)`);
    const tBoot = Date.now();
    o.machines.forEach((spec, i) => {
      const m = createMachineFs({
        name: spec.name,
        index: i + 1,
        addressBlock,
        cluster,
        clusterDir: stateDir,
        metadata: spec.metadata ?? {},
        ...machineServices(state),
      });
      if (state.ssh && m.sshHostKey) trustHostKey(state.ssh, m.publicIp, m.sshHostKey);
      state.machines.push(m);
    });
    for (const m of state.machines) await bootMachine(m, { detached, repoRoot: root });
    writeState(state);
    await Promise.all(state.machines.map((m) => waitMachineReady(m, timeoutMs)));
    writeState(state);
    log(`machines booted in ${Date.now() - tBoot} ms; waiting for agents to register`);
    await waitRegistered(state, timeoutMs);
    state.status = "up";
    writeState(state);
    log(`cluster ${cluster} up in ${Date.now() - t0} ms`);
    return new ClusterHandle(state);
  } catch (e) {
    state.status = "failed";
    writeState(state);
    if (!o.keepOnFailure) {
      log(`start failed; stopping what was started (logs kept in ${stateDir})`);
      await stopCluster(state, { removeState: false }).catch(() => {});
    }
    throw e;
  }
}

/** What every machine of the cluster runs besides systemd: the agent (with the cluster's
 * gateways, NATS and agent_ttl) and, when the cluster has ssh, sshd for its user and key. */
function machineServices(state: ClusterState): Pick<CreateMachineOptions, "agent" | "ssh"> {
  const nats = state.endpoints.nats;
  if (!nats) throw new Error(`cluster ${state.cluster} has no NATS endpoint in its state`);
  return {
    agent: {
      gatewayEndpoint: gatewayEndpoints(state).join(","),
      natsServers: nats,
      agentTtlSeconds: state.agentTtlSeconds,
      verbosity: "info",
      // fleet's API on each machine's /var/run/fleet.sock, relayed by its agent to the api.
      ...(state.endpoints.api ? { apiEndpoint: state.endpoints.api } : {}),
      ...(state.endpoints.apiHttp ? { apiHttpEndpoint: state.endpoints.apiHttp.replace(/^http:\/\//, "") } : {}),
    },
    ...(state.ssh ? { ssh: { port: state.ssh.port, user: state.ssh.user, authorizedKey: clusterPublicKey(state.ssh) } } : {}),
  };
}

/** Ready = etcd healthy / the listen port accepts TCP / (engines) still alive after 0.5 s. */
export async function waitComponentReady(rec: ComponentRecord, timeoutMs = 30_000): Promise<void> {
  if (rec.healthUrl) {
    const metricsUrl = rec.healthUrl.replace(/\/health$/, "");
    await waitFor(
      `${rec.name} health`,
      () => {
        if (!isAlive(rec)) throw new WaitAborted(`${rec.name} (pid ${rec.pid}) exited\n--- ${rec.logFile} ---\n${logTail(rec.logFile)}`);
        return etcdHealthy(metricsUrl);
      },
      { timeoutMs, intervalMs: 100 },
    );
  } else if (rec.address) {
    const { host, port } = splitHostPort(rec.address);
    await waitForTcp(rec.name, host, port, { timeoutMs, proc: rec });
  } else {
    await sleep(500); // engines listen on nothing: alive after a moment is ready
    if (!isAlive(rec)) throw new Error(`${rec.name} (pid ${rec.pid}) exited at startup\n--- ${rec.logFile} ---\n${logTail(rec.logFile)}`);
  }
}

/** The machine ids RegistryService.ListMachines returns, from the first gateway that answers
 * (gateways may be down: any live one will do). */
export async function registeredMachineIds(state: ClusterState, deadlineMs = 3_000): Promise<Set<string>> {
  const gateways = gatewayEndpoints(state);
  if (gateways.length === 0) throw new Error("no gateway endpoint in state");
  const errors: string[] = [];
  for (const gateway of gateways) {
    const client = connect(RegistryServiceClient, gateway);
    try {
      const res = await unary(client.listMachines.bind(client), { minRevision: 0 }, { deadlineMs });
      return new Set(res.machines.map((x) => x.id));
    } catch (e) {
      errors.push(`${gateway}: ${(e as Error).message}`);
    } finally {
      client.close();
    }
  }
  throw new Error(`no gateway answered ListMachines: ${errors.join("; ")}`);
}

/** Polls ListMachines (through any live gateway) until every machine (or those named) is there. */
export async function waitRegistered(state: ClusterState, timeoutMs: number, names?: readonly string[]): Promise<void> {
  const machines = names ? state.machines.filter((m) => names.includes(m.name)) : state.machines;
  await waitFor(
    `machines ${machines.map((m) => m.name).join(", ")} to register`,
    async () => {
      for (const m of machines) {
        if (!machineRunning(m)) throw new WaitAborted(`machine ${m.name} died while waiting for registration`);
      }
      const ids = await registeredMachineIds(state);
      const missing = machines.filter((m) => !ids.has(m.machineId));
      if (missing.length > 0) throw new Error(`not yet registered: ${missing.map((m) => `${m.name} (${m.machineId}, agent log ${join(m.fs, "var/log/fleet-agent.log")})`).join(", ")}`);
      return true;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

export interface StopReport {
  stopped: string[];
  alreadyDead: string[];
  errors: string[];
}

/** Stops everything a state records (by recorded PIDs only): heals partitions first (a
 * partitioned machine would take its whole grace period to power off), then machines, then
 * services, then NATS and etcd. removeState also deletes the state dir. */
export async function stopCluster(state: ClusterState, o: { removeState?: boolean; machineGraceMs?: number } = {}): Promise<StopReport> {
  const report: StopReport = { stopped: [], alreadyDead: [], errors: [] };
  if (state.status !== "failed") state.status = "stopping";
  if (existsSync(state.stateDir)) writeState(state);
  for (const p of [...(state.partitions ?? [])]) {
    try {
      await healPartition(p.chain);
      state.partitions = (state.partitions ?? []).filter((x) => x.machine !== p.machine);
      report.stopped.push(`partition of ${p.machine}`);
    } catch (e) {
      report.errors.push(`heal ${p.machine}: ${(e as Error).message}`);
    }
  }
  if (existsSync(state.stateDir)) writeState(state);
  await Promise.all(
    state.machines.map(async (m) => {
      const was = machineRunning(m);
      try {
        await destroyMachine(m, o.machineGraceMs ?? 20_000);
        (was ? report.stopped : report.alreadyDead).push(`machine ${m.name}`);
      } catch (e) {
        report.errors.push(`machine ${m.name}: ${(e as Error).message}`);
      }
    }),
  );
  const stopGroup = async (recs: ComponentRecord[]) =>
    Promise.all(
      recs.map(async (c) => {
        const was = isAlive(c);
        const ok = await terminate(c, 10_000);
        if (!ok) report.errors.push(`${c.name} (pid ${c.pid}) did not exit`);
        else (was ? report.stopped : report.alreadyDead).push(c.name);
        if (c.dataDir) rmSync(c.dataDir, { recursive: true, force: true });
      }),
    );
  await stopGroup(state.components.filter((c) => c.kind === "api" || c.kind === "engine"));
  await stopGroup(state.components.filter((c) => c.kind === "registry-gateway"));
  await stopGroup(state.components.filter((c) => c.kind === "nats" || c.kind === "etcd"));
  if (state.ssh) {
    const was = isAlive({ pid: state.ssh.agentPid, startTime: state.ssh.agentStartTime });
    if (!(await stopClusterSsh(state.ssh))) report.errors.push(`ssh-agent (pid ${state.ssh.agentPid}) did not exit`);
    else (was ? report.stopped : report.alreadyDead).push("ssh-agent");
  }
  if (report.errors.length === 0 && state.addressBlock) releaseAddressBlock(state.stateDir, state.addressBlock);
  if (o.removeState && report.errors.length === 0) rmSync(state.stateDir, { recursive: true, force: true });
  return report;
}

/** Handle on a running cluster (from startCluster, or attachCluster(stateDir)).
 * Methods that change the cluster first re-read the state file, so a handle stays right
 * when fleet-dev (another process) restarted or partitioned something meanwhile. */
export class ClusterHandle {
  constructor(readonly state: ClusterState) {}

  get stateDir(): string {
    return this.state.stateDir;
  }
  get endpoints(): ClusterState["endpoints"] {
    return this.state.endpoints;
  }
  /** FLEETCTL_ENDPOINT, FLEET_GATEWAY_ENDPOINT (all gateways, comma separated), ... for clients. */
  get env(): Record<string, string> {
    return clientEnv(this.state);
  }

  /** Re-reads the state file into this.state when another process (fleet-dev) changed it. */
  reload(): this {
    refreshState(this.state);
    return this;
  }

  machine(name: string): MachineRecord {
    const m = this.state.machines.find((x) => x.name === name);
    if (!m) throw new Error(`no machine ${name} in cluster ${this.state.cluster} (machines: ${this.state.machines.map((x) => x.name).join(", ") || "none"})`);
    return m;
  }
  component(name: string): ComponentRecord {
    const c = this.state.components.find((x) => x.name === name);
    if (!c) throw new Error(`no component ${name} in cluster ${this.state.cluster} (components: ${this.state.components.map((x) => x.name).join(", ")})`);
    return c;
  }
  /** [{name: "engine-1", pid}, ...] */
  engines(): { name: string; pid: number; alive: boolean }[] {
    return this.state.components.filter((c) => c.kind === "engine").map((c) => ({ name: c.name, pid: c.pid, alive: isAlive(c) }));
  }

  /** The engine holding leadership now (read from etcd, key <prefix>engine/leader). */
  leaderEngine(keyPrefix = "/fleet/"): Promise<{ name: string; pid: number } | undefined> {
    return leaderEngineOf(this.state, keyPrefix);
  }

  exec(name: string, argv: string[], o?: { timeoutMs?: number }): Promise<ExecResult> {
    return execInMachine(this.machine(name), argv, o);
  }
  /** The machine's systemd as a host PID. */
  pid1(name: string): number | undefined {
    return containerPid1(this.machine(name));
  }
  /** "Lost power": SIGKILL its PID 1. A partition stays recorded (restartMachine re-applies it). */
  kill(name: string): Promise<void> {
    return killMachine(this.reload().machine(name));
  }
  /** Clean poweroff (its fs stays; restartMachine boots it again). */
  stopMachine(name: string): Promise<void> {
    return stopMachine(this.reload().machine(name));
  }
  /** Boots a killed/stopped machine again (same fs, same machine-id) and waits for its system.
   * A partitioned machine stays partitioned: its rules are made again for the new boot's
   * cgroup as soon as it exists, before anything inside can reach the network.
   * detached: the machine outlives this process (fleet-dev). */
  async restartMachine(name: string, timeoutMs = 60_000, o: { detached?: boolean } = {}): Promise<{ partitionMs?: number }> {
    const m = this.reload().machine(name);
    const partition = this.partitionOf(name);
    if (partition) await healPartition(partition.chain); // bound to the old boot's cgroup
    await bootMachine(m, { detached: o.detached ?? this.state.detached, repoRoot: this.state.repoRoot });
    writeState(this.state);
    let partitionMs: number | undefined;
    if (partition) {
      await waitInOwnCgroup(m);
      const r = await partitionMachine(m);
      this.setPartition(name, r.record);
      partitionMs = r.ms;
    }
    await waitMachineReady(m, timeoutMs);
    writeState(this.state);
    return partitionMs === undefined ? {} : { partitionMs };
  }

  /** Adds a machine to the running cluster: the next free address, a new filesystem and
   * machine id, the agent and sshd like the others (its host key trusted in the cluster's
   * known_hosts). Resolves once its agent has registered. detached: it outlives this process. */
  async addMachine(spec: ClusterMachineSpec, o: { detached?: boolean; timeoutMs?: number } = {}): Promise<MachineRecord> {
    const state = this.reload().state;
    validateName("machine", spec.name);
    if (state.machines.some((m) => m.name === spec.name)) throw new Error(`machine ${spec.name} is already in cluster ${state.cluster}`);
    if (isComponentName(spec.name)) throw new Error(`machine name ${spec.name} is taken by a component (etcd[-N], nats, registry-gateway[-N], engine[-N], api): choose another`);
    const index = Math.max(0, ...state.machines.map((m) => m.index)) + 1;
    const address = machinePublicIp(index, state.addressBlock);
    if (state.ssh && !(await portFreeOn([address], state.ssh.port))) throw new Error(`port ${state.ssh.port} is taken on ${address}: machine ${spec.name}'s sshd could not listen there`);
    const m = createMachineFs({ name: spec.name, index, addressBlock: state.addressBlock ?? DEFAULT_ADDRESS_BLOCK, cluster: state.cluster, clusterDir: state.stateDir, metadata: spec.metadata ?? {}, ...machineServices(state) });
    if (state.ssh && m.sshHostKey) trustHostKey(state.ssh, m.publicIp, m.sshHostKey);
    state.machines.push(m);
    writeState(state);
    await bootMachine(m, { detached: o.detached ?? state.detached, repoRoot: state.repoRoot });
    writeState(state);
    await waitMachineReady(m, o.timeoutMs ?? 60_000);
    writeState(state);
    await waitRegistered(state, o.timeoutMs ?? 60_000, [spec.name]);
    return m;
  }

  /**
   * Reinstalls a machine: powers it off (a partitioned one is killed: it could not shut down
   * cleanly), then boots a fresh filesystem on the same name, address and metadata, with a new
   * machine id and a new ssh host key. To fleet it is a new machine; to ssh its host key has
   * changed: the cluster's known_hosts keeps the old key on purpose (see forgetHostCommand).
   * A partitioned machine stays partitioned. Resolves once the new machine id has registered.
   */
  async replaceMachine(name: string, o: { detached?: boolean; timeoutMs?: number; graceMs?: number } = {}): Promise<{ old: MachineRecord; machine: MachineRecord; forgetHost?: string }> {
    const state = this.reload().state;
    const old = { ...this.machine(name) };
    if (this.partitionOf(name)) await killMachine(old);
    else await stopMachine(old, o.graceMs ?? 20_000);
    if (machineRunning(old)) throw new Error(`machine ${name} is still running; not replacing its filesystem`);
    const fresh = createMachineFs({ name, index: old.index, addressBlock: state.addressBlock ?? DEFAULT_ADDRESS_BLOCK, cluster: state.cluster, clusterDir: state.stateDir, metadata: old.metadata, ...machineServices(state) });
    state.machines = state.machines.map((m) => (m.name === name ? fresh : m));
    writeState(state);
    await this.restartMachine(name, o.timeoutMs ?? 60_000, { detached: o.detached ?? state.detached });
    await waitRegistered(state, o.timeoutMs ?? 60_000, [name]);
    const machine = this.machine(name);
    return { old, machine, ...(state.ssh ? { forgetHost: forgetHostCommand(state.ssh.knownHostsFile, machine.publicIp, state.ssh.port) } : {}) };
  }

  /** Starts a killed component again: same command line, ports, environment and data (an
   * etcd member rejoins its cluster from its data dir: --initial-cluster-state existing).
   * Refuses a component that is still running. detached: it outlives this process. */
  async restartComponent(name: string, o: { detached?: boolean } = {}): Promise<void> {
    const c = this.reload().component(name);
    if (isAlive(c)) throw new Error(`${name} (pid ${c.pid}) is still running`);
    if (c.kind === "etcd") c.argv = etcdRejoinArgv(c.argv);
    const [cmd, ...args] = c.argv;
    if (!cmd) throw new Error(`${name}: no recorded command line`);
    const p = await spawnLogged({ cmd, args, env: { ...baseEnv(), ...(c.env ?? {}) }, logFile: c.logFile, detached: o.detached ?? this.state.detached, cwd: this.state.repoRoot });
    c.pid = p.pid;
    c.startTime = p.startTime;
    writeState(this.state);
    await waitComponentReady(c);
  }

  /** Waits until every machine (or those named) is registered (e.g. after restartMachine). */
  waitRegistered(timeoutMs = 60_000, names?: readonly string[]): Promise<void> {
    return waitRegistered(this.state, timeoutMs, names);
  }

  /** Machine ids ListMachines returns now, through any live gateway. */
  registeredMachineIds(): Promise<Set<string>> {
    return registeredMachineIds(this.state);
  }

  /** Signals a component by its recorded PID (default SIGKILL) and waits for it to exit. */
  async killComponent(name: string, sig: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const c = this.reload().component(name);
    signal(c, sig);
    if (!(await waitForExit(c, 10_000))) throw new Error(`${name} (pid ${c.pid}) did not exit on ${sig}`);
  }

  /** Cuts all traffic between the machine and everything else (control plane, other
   * machines) while it keeps running. Idempotent: already = nothing had to be done. */
  async partition(name: string): Promise<{ already: boolean; ms: number; chain: string }> {
    const m = this.reload().machine(name);
    const r = await partitionMachine(m, this.partitionOf(name));
    this.setPartition(name, r.record);
    return { already: r.already, ms: r.ms, chain: r.record.chain };
  }

  /** Restores the machine's traffic. wasPartitioned false: there was nothing to heal. */
  async heal(name: string): Promise<{ wasPartitioned: boolean; ms: number }> {
    this.reload().machine(name);
    const recorded = this.partitionOf(name);
    const r = await healPartition(recorded?.chain ?? partitionChainName(this.state.cluster, name));
    this.setPartition(name, undefined);
    return { wasPartitioned: r.wasPartitioned || recorded !== undefined, ms: r.ms };
  }

  /** The machine's partition as recorded, if it is partitioned. */
  partitionOf(name: string): PartitionRecord | undefined {
    return (this.state.partitions ?? []).find((p) => p.machine === name);
  }

  private setPartition(name: string, rec: PartitionRecord | undefined): void {
    const others = (this.state.partitions ?? []).filter((p) => p.machine !== name);
    this.state.partitions = rec ? [...others, rec] : others;
    writeState(this.state);
  }

  stop(o?: { removeState?: boolean }): Promise<StopReport> {
    return stopCluster(this.reload().state, { removeState: o?.removeState ?? true });
  }
}

/** Waits until a just-booted machine's launcher moved itself into the machine's cgroup. */
async function waitInOwnCgroup(m: MachineRecord, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    `machine ${m.name} in its cgroup ${m.cgroupName}`,
    () => {
      if (!machineRunning(m) || m.nspawnPid === undefined) throw new WaitAborted(`machine ${m.name}: nspawn exited\n--- ${m.logFile} ---\n${logTail(m.logFile)}`);
      const text = readFileSync(`/proc/${m.nspawnPid}/cgroup`, "utf8");
      return text.split("\n").some((l) => l.startsWith("0::") && `${l}/`.includes(`/${m.cgroupName}/`));
    },
    { timeoutMs, intervalMs: 10 },
  );
}

export function attachCluster(stateDir: string): ClusterHandle {
  const s = readState(stateDir);
  if (!s) throw new Error(`no cluster state in ${stateDir}`);
  return new ClusterHandle(s);
}

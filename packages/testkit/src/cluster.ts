// A whole sandbox cluster: etcd, NATS, registry-gateway, engines, api as host processes,
// then nspawn machines each running the agent as a systemd service.
import { existsSync, rmSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { connect, unary, RegistryServiceClient } from "@fleet/wire";
import { etcdHealthy, leaderEngineOf, startEtcdLocal } from "./etcd.js";
import { startNatsLocal } from "./nats.js";
import { freePort, splitHostPort, waitForTcp } from "./ports.js";
import { isAlive, signal, sleep, spawnLogged, terminate, waitFor, waitForExit, logTail, WaitAborted } from "./proc.js";
import { validateName, DEFAULT_BASE_DIR } from "./machine-spec.js";
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
  type ExecResult,
  type MachineRecord,
} from "./machine.js";
import { repoRoot as defaultRepoRoot } from "./repo.js";
import { anyAlive, clientEnv, readState, writeState, type ClusterState, type ComponentKind, type ComponentRecord } from "./state.js";

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
    names.add(m.name);
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
    endpoints: {},
    components: [],
    machines: [],
  };
  writeState(state);
  const detached = o.detached ?? false;
  const svcDir = join(stateDir, "services");
  const timeoutMs = o.readyTimeoutMs ?? 90_000;
  try {
    log("starting etcd and NATS");
    const [etcd, nats] = await Promise.all([startEtcdLocal({ dir: svcDir, detached }), startNatsLocal({ dir: svcDir, detached })]);
    state.components.push(
      {
        name: "etcd",
        kind: "etcd",
        pid: etcd.pid,
        startTime: etcd.startTime,
        address: etcd.endpoint,
        logFile: etcd.logFile,
        dataDir: etcd.dataDir,
        argv: etcd.argv,
        healthUrl: `${etcd.metricsUrl}/health`,
      },
      { name: "nats", kind: "nats", pid: nats.pid, startTime: nats.startTime, address: nats.url, logFile: nats.logFile, argv: nats.argv },
    );
    state.endpoints.etcd = etcd.endpoint;
    state.endpoints.etcdMetrics = etcd.metricsUrl;
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

    log("starting registry-gateway");
    const gateway = `127.0.0.1:${await freePort()}`;
    const gw = await startService(
      "registry-gateway",
      "registry-gateway",
      { FLEET_ETCD_SERVERS: etcd.endpoint, FLEET_NATS_SERVERS: nats.url, FLEET_GATEWAY_LISTEN: gateway, FLEET_AGENT_TTL: String(state.agentTtlSeconds) },
      gateway,
    );
    await waitService(gw);
    state.endpoints.gateway = gateway;
    writeState(state);

    log(`starting ${o.engines ?? 2} engines and the api`);
    const engines: Promise<ComponentRecord>[] = [];
    for (let i = 1; i <= (o.engines ?? 2); i++) {
      engines.push(
        startService(`engine-${i}`, "engine", {
          FLEET_GATEWAY_ENDPOINT: gateway,
          FLEET_NATS_SERVERS: nats.url,
          FLEET_ENGINE_RECONCILE_INTERVAL: String(state.reconcileIntervalSeconds),
          FLEET_ENGINE_ID: `engine-${i}`,
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

    log(`booting ${o.machines.length} machine(s)`);
    const tBoot = Date.now();
    o.machines.forEach((spec, i) => {
      state.machines.push(
        createMachineFs({
          name: spec.name,
          index: i + 1,
          cluster,
          clusterDir: stateDir,
          metadata: spec.metadata ?? {},
          agent: { gatewayEndpoint: gateway, natsServers: nats.url, agentTtlSeconds: state.agentTtlSeconds, verbosity: "info" },
        }),
      );
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

/** Polls RegistryService.ListMachines through the gateway until every machine is there. */
export async function waitRegistered(state: ClusterState, timeoutMs: number): Promise<void> {
  const gateway = state.endpoints.gateway;
  if (!gateway) throw new Error("no gateway endpoint in state");
  const client = connect(RegistryServiceClient, gateway);
  try {
    await waitFor(
      `machines ${state.machines.map((m) => m.name).join(", ")} to register`,
      async () => {
        for (const m of state.machines) {
          if (!machineRunning(m)) throw new WaitAborted(`machine ${m.name} died while waiting for registration`);
        }
        const res = await unary(client.listMachines.bind(client), { minRevision: 0 }, { deadlineMs: 3_000 });
        const ids = new Set(res.machines.map((x) => x.id));
        const missing = state.machines.filter((m) => !ids.has(m.machineId));
        if (missing.length > 0) throw new Error(`not yet registered: ${missing.map((m) => `${m.name} (${m.machineId}, agent log ${join(m.fs, "var/log/fleet-agent.log")})`).join(", ")}`);
        return true;
      },
      { timeoutMs, intervalMs: 250 },
    );
  } finally {
    client.close();
  }
}

export interface StopReport {
  stopped: string[];
  alreadyDead: string[];
  errors: string[];
}

/** Stops everything a state records (by recorded PIDs only): machines first, then services,
 * then NATS and etcd. removeState also deletes the state dir. */
export async function stopCluster(state: ClusterState, o: { removeState?: boolean; machineGraceMs?: number } = {}): Promise<StopReport> {
  const report: StopReport = { stopped: [], alreadyDead: [], errors: [] };
  if (state.status !== "failed") state.status = "stopping";
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
  if (o.removeState && report.errors.length === 0) rmSync(state.stateDir, { recursive: true, force: true });
  return report;
}

/** Handle on a running cluster (from startCluster, or attachCluster(stateDir)). */
export class ClusterHandle {
  constructor(readonly state: ClusterState) {}

  get stateDir(): string {
    return this.state.stateDir;
  }
  get endpoints(): ClusterState["endpoints"] {
    return this.state.endpoints;
  }
  /** FLEETCTL_ENDPOINT, FLEET_GATEWAY_ENDPOINT, ... for clients. */
  get env(): Record<string, string> {
    return clientEnv(this.state);
  }

  machine(name: string): MachineRecord {
    const m = this.state.machines.find((x) => x.name === name);
    if (!m) throw new Error(`no machine ${name} in cluster ${this.state.cluster}`);
    return m;
  }
  component(name: string): ComponentRecord {
    const c = this.state.components.find((x) => x.name === name);
    if (!c) throw new Error(`no component ${name} in cluster ${this.state.cluster}`);
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
  /** "Lost power": SIGKILL its PID 1. */
  kill(name: string): Promise<void> {
    return killMachine(this.machine(name));
  }
  /** Clean poweroff (its fs stays; restartMachine boots it again). */
  stopMachine(name: string): Promise<void> {
    return stopMachine(this.machine(name));
  }
  /** Boots a killed/stopped machine again (same fs, same machine-id) and waits for its system. */
  async restartMachine(name: string, timeoutMs = 60_000): Promise<void> {
    const m = this.machine(name);
    await bootMachine(m, { detached: this.state.detached, repoRoot: this.state.repoRoot });
    writeState(this.state);
    await waitMachineReady(m, timeoutMs);
    writeState(this.state);
  }

  /** Starts a killed component again: same command line, ports, environment and data. */
  async restartComponent(name: string): Promise<void> {
    const c = this.component(name);
    if (isAlive(c)) throw new Error(`${name} (pid ${c.pid}) is still running`);
    const [cmd, ...args] = c.argv;
    if (!cmd) throw new Error(`${name}: no recorded command line`);
    const p = await spawnLogged({ cmd, args, env: { ...baseEnv(), ...(c.env ?? {}) }, logFile: c.logFile, detached: this.state.detached, cwd: this.state.repoRoot });
    c.pid = p.pid;
    c.startTime = p.startTime;
    writeState(this.state);
    await waitComponentReady(c);
  }

  /** Waits until every machine is registered (e.g. after restartMachine). */
  waitRegistered(timeoutMs = 60_000): Promise<void> {
    return waitRegistered(this.state, timeoutMs);
  }

  /** Signals a component by its recorded PID (default SIGKILL) and waits for it to exit. */
  async killComponent(name: string, sig: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const c = this.component(name);
    signal(c, sig);
    if (!(await waitForExit(c, 10_000))) throw new Error(`${name} (pid ${c.pid}) did not exit on ${sig}`);
  }

  stop(o?: { removeState?: boolean }): Promise<StopReport> {
    return stopCluster(this.state, { removeState: o?.removeState ?? true });
  }
}

export function attachCluster(stateDir: string): ClusterHandle {
  const s = readState(stateDir);
  if (!s) throw new Error(`no cluster state in ${stateDir}`);
  return new ClusterHandle(s);
}

// fleet-dev's commands: thin glue over @fleet/testkit.
import { join } from "node:path";
import {
  anyAlive,
  attachCluster,
  clientEnv,
  containerPid1,
  execInMachineInteractive,
  isAlive,
  killMachine,
  leaderEngineOf,
  machineRunning,
  readState,
  startCluster,
  stopCluster,
  type ClusterState,
} from "@fleet/testkit";
import type { Command } from "./args.js";
import { exportLines, formatStatus, type StatusView } from "./format.js";

type Of<K extends Command["cmd"]> = Extract<Command, { cmd: K }>;

const say = (msg: string): void => {
  process.stderr.write(`fleet-dev: ${msg}\n`);
};

function requireState(stateDir: string): ClusterState {
  const s = readState(stateDir);
  if (!s) throw new Error(`no cluster in ${stateDir} (start one with fleet-dev up)`);
  return s;
}

export async function up(c: Of<"up">): Promise<number> {
  const existing = readState(c.g.stateDir);
  if (existing && anyAlive(existing)) {
    throw new Error(`a cluster is already up in ${c.g.stateDir} (cluster ${existing.cluster}, status ${existing.status}); run fleet-dev down first, or use --cluster/--state-dir for another one`);
  }
  // Ctrl-C during startup: stop what was started (processes are detached, so they would not
  // get the signal themselves).
  const onSignal = (sig: NodeJS.Signals) => {
    say(`${sig}: stopping what was started`);
    const s = readState(c.g.stateDir);
    void (s ? stopCluster(s, { removeState: false }) : Promise.resolve()).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const cluster = await startCluster({
    machines: c.machines,
    agentTtlSeconds: c.agentTtlSeconds,
    reconcileIntervalSeconds: c.reconcileIntervalSeconds,
    stateDir: c.g.stateDir,
    ...(c.g.cluster ? { cluster: c.g.cluster } : {}),
    detached: true,
    readyTimeoutMs: c.timeoutSeconds * 1000,
    keepOnFailure: c.keepOnFailure,
    log: say,
  });
  process.removeListener("SIGINT", onSignal);
  process.removeListener("SIGTERM", onSignal);
  for (const m of cluster.state.machines) say(`machine ${m.name}: id ${m.machineId}, ip ${m.publicIp}`);
  process.stdout.write(exportLines(cluster.env));
  return 0;
}

export async function down(c: Of<"down">): Promise<number> {
  const s = readState(c.g.stateDir);
  if (!s) {
    say(`no cluster in ${c.g.stateDir}; nothing to do`);
    return 0;
  }
  const t0 = Date.now();
  const r = await stopCluster(s, { removeState: true });
  if (r.stopped.length) say(`stopped: ${r.stopped.join(", ")}`);
  if (r.alreadyDead.length) say(`already gone: ${r.alreadyDead.join(", ")}`);
  for (const e of r.errors) say(`error: ${e}`);
  if (r.errors.length) {
    say(`state kept in ${s.stateDir}; fix the above and run down again`);
    return 1;
  }
  say(`cluster ${s.cluster} down in ${Date.now() - t0} ms`);
  return 0;
}

export async function statusView(s: ClusterState): Promise<StatusView> {
  const leader = await leaderEngineOf(s).catch(() => undefined);
  return {
    ...(leader ? { leader: leader.name } : {}),
    cluster: s.cluster,
    stateDir: s.stateDir,
    status: s.status,
    createdAt: s.createdAt,
    endpoints: s.endpoints,
    env: clientEnv(s),
    components: s.components.map((c) => ({
      name: c.name,
      kind: c.kind,
      pid: c.pid,
      alive: isAlive(c),
      logFile: c.logFile,
      ...(c.address ? { address: c.address } : {}),
    })),
    machines: s.machines.map((m) => {
      const pid1 = containerPid1(m);
      return {
        name: m.name,
        machineId: m.machineId,
        publicIp: m.publicIp,
        metadata: m.metadata,
        ...(m.nspawnPid ? { nspawnPid: m.nspawnPid } : {}),
        ...(pid1 ? { pid1 } : {}),
        alive: machineRunning(m),
        cgroup: m.cgroupName,
        agentLog: join(m.fs, "var/log/fleet-agent.log"),
      };
    }),
  };
}

export async function status(c: Of<"status">): Promise<number> {
  const s = readState(c.g.stateDir);
  if (!s) {
    if (c.json) process.stdout.write("null\n");
    else say(`no cluster in ${c.g.stateDir}`);
    return 3;
  }
  const v = await statusView(s);
  process.stdout.write(c.json ? JSON.stringify(v, null, 2) + "\n" : formatStatus(v));
  return 0;
}

function machineOf(s: ClusterState, name: string) {
  const m = s.machines.find((x) => x.name === name);
  if (!m) throw new Error(`no machine ${name} in cluster ${s.cluster} (machines: ${s.machines.map((x) => x.name).join(", ") || "none"})`);
  return m;
}

export async function exec(c: Of<"exec">): Promise<number> {
  const m = machineOf(requireState(c.g.stateDir), c.machine);
  if (!machineRunning(m)) throw new Error(`machine ${c.machine} is not running`);
  return execInMachineInteractive(m, c.argv);
}

export async function kill(c: Of<"kill">): Promise<number> {
  const m = machineOf(requireState(c.g.stateDir), c.machine);
  const pid1 = containerPid1(m);
  if (!pid1) {
    say(`machine ${c.machine} is not running`);
    return 1;
  }
  await killMachine(m);
  say(`machine ${c.machine} killed (SIGKILL to its PID 1, host pid ${pid1})`);
  return 0;
}

export async function restart(c: Of<"restart">): Promise<number> {
  const h = attachCluster(c.g.stateDir);
  const m = h.machine(c.machine);
  if (machineRunning(m)) throw new Error(`machine ${c.machine} is running; kill it first`);
  const t0 = Date.now();
  await h.restartMachine(c.machine);
  say(`machine ${c.machine} booted in ${Date.now() - t0} ms (nspawn pid ${m.nspawnPid})`);
  return 0;
}

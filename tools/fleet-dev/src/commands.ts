// fleet-dev's commands: thin glue over @fleet/launcher.
import {
  AGENT_METRICS_PORT,
  agentLogCommand,
  anyAlive,
  ClusterHandle,
  clientEnv,
  containerPid1,
  execInMachineInteractive,
  isAlive,
  leaderEngineOf,
  machineRunning,
  readState,
  startCluster,
  stopCluster,
  type ClusterState,
} from "@fleet/launcher";
import type { Command } from "./args.js";
import { exportLines, formatStatus, sshHints, type StatusView } from "./format.js";

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
    etcdMembers: c.etcdMembers,
    gateways: c.gateways,
    agentTtlSeconds: c.agentTtlSeconds,
    reconcileIntervalSeconds: c.reconcileIntervalSeconds,
    stateDir: c.g.stateDir,
    ...(c.g.cluster ? { cluster: c.g.cluster } : {}),
    detached: true,
    readyTimeoutMs: c.timeoutSeconds * 1000,
    keepOnFailure: c.keepOnFailure,
    auth: c.auth,
    tls: c.tls,
    log: say,
  });
  process.removeListener("SIGINT", onSignal);
  process.removeListener("SIGTERM", onSignal);
  for (const m of cluster.state.machines) say(`machine ${m.name}: id ${m.machineId}, ip ${m.publicIp}`);
  for (const line of sshHints(cluster.state)) say(line);
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
      ...(c.metricsUrl ? { metricsUrl: c.metricsUrl } : {}),
    })),
    ...(s.ssh
      ? {
          ssh: {
            user: s.ssh.user,
            port: s.ssh.port,
            keyFile: s.ssh.keyFile,
            knownHostsFile: s.ssh.knownHostsFile,
            agentSocket: s.ssh.agentSocket,
            agentPid: s.ssh.agentPid,
            agentAlive: isAlive({ pid: s.ssh.agentPid, startTime: s.ssh.agentStartTime }),
          },
        }
      : {}),
    machines: s.machines.map((m) => {
      const pid1 = containerPid1(m);
      const partition = s.partitions?.find((p) => p.machine === m.name);
      return {
        name: m.name,
        machineId: m.machineId,
        publicIp: m.publicIp,
        metadata: m.metadata,
        ...(m.nspawnPid ? { nspawnPid: m.nspawnPid } : {}),
        ...(pid1 ? { pid1 } : {}),
        alive: machineRunning(m),
        cgroup: m.cgroupName,
        agentLog: agentLogCommand(m),
        metricsUrl: `http://${m.publicIp}:${AGENT_METRICS_PORT}/metrics`,
        ...(m.sshHostKey ? { sshHostKey: m.sshHostKey } : {}),
        ...(partition ? { partition: { chain: partition.chain, since: partition.appliedAt } } : {}),
      };
    }),
  };
}

/** The exports of the running cluster, as up printed them. */
export async function env(c: Of<"env">): Promise<number> {
  const s = requireState(c.g.stateDir);
  if (!anyAlive(s)) throw new Error(`cluster ${s.cluster} in ${s.stateDir} is not running (status ${s.status}); start it with fleet-dev up`);
  process.stdout.write(exportLines(clientEnv(s)));
  return 0;
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

/** A machine or a component of the cluster, or an error that lists the valid names. */
function targetOf(s: ClusterState, name: string): { machine: true } | { machine: false } {
  if (s.machines.some((m) => m.name === name)) return { machine: true };
  if (s.components.some((x) => x.name === name)) return { machine: false };
  throw new Error(
    `no machine or component ${name} in cluster ${s.cluster}: machines ${s.machines.map((m) => m.name).join(", ") || "(none)"}; ` +
      `components ${s.components.map((x) => x.name).join(", ")}`,
  );
}

export async function kill(c: Of<"kill">): Promise<number> {
  const h = new ClusterHandle(requireState(c.g.stateDir));
  if (targetOf(h.state, c.name).machine) {
    const pid1 = h.pid1(c.name);
    if (!pid1) {
      say(`machine ${c.name} is not running`);
      return 1;
    }
    await h.kill(c.name);
    say(`machine ${c.name} killed (SIGKILL to its PID 1, host pid ${pid1})`);
    return 0;
  }
  const comp = h.component(c.name);
  if (!isAlive(comp)) {
    say(`${c.name} is not running (pid ${comp.pid} gone)`);
    return 1;
  }
  await h.killComponent(c.name, "SIGKILL");
  say(`${c.name} killed (SIGKILL to pid ${comp.pid})`);
  return 0;
}

export async function restart(c: Of<"restart">): Promise<number> {
  const h = new ClusterHandle(requireState(c.g.stateDir));
  const t0 = Date.now();
  if (targetOf(h.state, c.name).machine) {
    const m = h.machine(c.name);
    if (machineRunning(m)) {
      say(`machine ${c.name} is running: killing it first (SIGKILL to its PID 1)`);
      await h.kill(c.name);
    }
    const r = await h.restartMachine(c.name, 60_000, { detached: true });
    if (r.partitionMs !== undefined) say(`machine ${c.name} is partitioned: rules made again for its new boot in ${r.partitionMs.toFixed(0)} ms`);
    say(`machine ${c.name} booted in ${Date.now() - t0} ms (nspawn pid ${h.machine(c.name).nspawnPid})`);
    return 0;
  }
  const comp = h.component(c.name);
  if (isAlive(comp)) {
    say(`${c.name} is running (pid ${comp.pid}): killing it first (SIGKILL)`);
    await h.killComponent(c.name, "SIGKILL");
  }
  await h.restartComponent(c.name, { detached: true });
  say(`${c.name} started again and ready in ${Date.now() - t0} ms (pid ${h.component(c.name).pid})`);
  return 0;
}

export async function add(c: Of<"add">): Promise<number> {
  const h = new ClusterHandle(requireState(c.g.stateDir));
  const t0 = Date.now();
  const m = await h.addMachine(c.machine, { detached: true, timeoutMs: c.timeoutSeconds * 1000 });
  say(`machine ${m.name} added and registered in ${Date.now() - t0} ms: id ${m.machineId}, ip ${m.publicIp}`);
  if (h.state.ssh) say(`ssh: its host key is in ${h.state.ssh.knownHostsFile}; try: fleetctl ssh ${m.machineId.slice(0, 8)} -- hostname`);
  return 0;
}

export async function replace(c: Of<"replace">): Promise<number> {
  const h = new ClusterHandle(requireState(c.g.stateDir));
  const t0 = Date.now();
  const r = await h.replaceMachine(c.machine, { detached: true, timeoutMs: c.timeoutSeconds * 1000 });
  say(`machine ${c.machine} replaced in ${Date.now() - t0} ms: new machine id ${r.machine.machineId} (was ${r.old.machineId}), same ip ${r.machine.publicIp}, new ssh host key`);
  if (r.forgetHost) say(`ssh: fleetctl refuses its new host key until you forget the old one: ${r.forgetHost}`);
  return 0;
}

export async function partition(c: Of<"partition">): Promise<number> {
  const h = new ClusterHandle(requireState(c.g.stateDir));
  const r = await h.partition(c.machine);
  say(r.already ? `machine ${c.machine} is already partitioned (iptables chain ${r.chain})` : `machine ${c.machine} partitioned in ${r.ms.toFixed(0)} ms (iptables chain ${r.chain})`);
  return 0;
}

export async function heal(c: Of<"heal">): Promise<number> {
  const h = new ClusterHandle(requireState(c.g.stateDir));
  const r = await h.heal(c.machine);
  say(r.wasPartitioned ? `machine ${c.machine} healed in ${r.ms.toFixed(0)} ms` : `machine ${c.machine} is not partitioned; nothing to do`);
  return 0;
}

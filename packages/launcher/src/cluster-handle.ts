// A handle on a running cluster (from startCluster, or attachCluster(stateDir)): exec in a
// machine, kill/restart/add/replace machines and components, partition and heal.
import { baseEnv, checkMachineName, type ClusterMachineSpec } from "./cluster-options.js";
import { registeredMachineIds, waitComponentReady, waitInOwnCgroup, waitRegistered, machineServices } from "./cluster-ready.js";
import { stopCluster, type StopReport } from "./cluster-stop.js";
import { etcdRejoinArgv, leaderEngineOf } from "./etcd.js";
import { partitionMachine, healPartition, type PartitionRecord } from "./partition.js";
import { partitionChainName } from "./partition-rules.js";
import { isAlive, signal, spawnLogged, waitForExit } from "./proc.js";
import { machinePublicIp } from "./machine-spec.js";
import { DEFAULT_ADDRESS_BLOCK } from "./address-blocks.js";
import { portFreeOn, trustHostKey } from "./ssh.js";
import { forgetHostCommand } from "./ssh-spec.js";
import {
  bootMachine,
  containerPid1,
  createMachineFs,
  execInMachine,
  killMachine,
  machineRunning,
  stopMachine,
  waitMachineReady,
  type ExecResult,
  type MachineRecord,
} from "./machine.js";
import { clientEnv, readState, refreshState, writeState, type ClusterState, type ComponentRecord } from "./state.js";

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
    checkMachineName(spec.name);
    if (state.machines.some((m) => m.name === spec.name)) throw new Error(`machine ${spec.name} is already in cluster ${state.cluster}`);
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

export function attachCluster(stateDir: string): ClusterHandle {
  const s = readState(stateDir);
  if (!s) throw new Error(`no cluster state in ${stateDir}`);
  return new ClusterHandle(s);
}

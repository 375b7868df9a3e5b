// The JSON state file of a sandbox cluster: every PID, port and machine, so that another
// process (fleet-dev down/status/exec/kill, a test's afterAll) can find and stop it all.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MachineRecord } from "./machine.js";
import type { PartitionRecord } from "./partition.js";
import { isAlive } from "./proc.js";
import { fleetctlTlsEnv, type ClusterTls } from "./cluster-tls.js";
import type { ClusterSsh } from "./ssh.js";

export type ComponentKind = "etcd" | "nats" | "registry-gateway" | "engine" | "api";

export interface ComponentRecord {
  /** Unique in the cluster: "etcd" (or "etcd-1".."etcd-N" with N members), "nats",
   * "registry-gateway" (or "registry-gateway-1".."-N"), "engine-1", "engine-2", "api". */
  name: string;
  kind: ComponentKind;
  pid: number;
  startTime: string;
  /** What clients dial: "http://127.0.0.1:P", "nats://127.0.0.1:P" or "127.0.0.1:P". */
  address?: string;
  logFile: string;
  dataDir?: string;
  /** How it was started (binary first) and the environment it got on top of the parent's
   * (minus FLEET_*), so restartComponent can start it again identically. */
  argv: string[];
  env?: Record<string, string>;
  /** etcd: where this member's /health answers. */
  healthUrl?: string;
  /** Where its Prometheus metrics are served (our services: metrics_listen's /metrics; etcd's own). */
  metricsUrl?: string;
}

export interface ClusterState {
  version: 1;
  cluster: string;
  stateDir: string;
  repoRoot: string;
  createdAt: string;
  /** Processes run in their own sessions and outlive the starter (fleet-dev up). */
  detached: boolean;
  status: "starting" | "up" | "failed" | "stopping";
  agentTtlSeconds: number;
  reconcileIntervalSeconds: number;
  /** Machines' addresses are <addressBlock>.<index> (absent in older state files: 127.0.1). */
  addressBlock?: string;
  endpoints: {
    /** The first etcd member's client URL (the only one with --etcd-members 1). */
    etcd?: string;
    /** Every etcd member's client URL, in member order. */
    etcdServers?: string[];
    /** The first etcd member's metrics URL (each member's /health: its component's healthUrl). */
    etcdMetrics?: string;
    nats?: string;
    natsMonitor?: string;
    /** The first registry-gateway's host:port. */
    gateway?: string;
    /** Every registry-gateway's host:port, in component order. */
    gateways?: string[];
    api?: string;
    /** fleet's HTTP API v1: http://host:port (https:// under TLS) */
    apiHttp?: string;
  };
  components: ComponentRecord[];
  machines: MachineRecord[];
  /** Machines fleet-dev partition cut off (absent in older state files). */
  partitions?: PartitionRecord[];
  /** ssh to the machines (absent in older state files, or when the host has no sshd). */
  ssh?: ClusterSsh;
  /** Auth is on: the file holding the bootstrap admin token (fleet-dev up --auth). */
  auth?: { adminTokenFile: string };
  /** Mutual TLS between every process (fleet-dev up --tls): the certificates' directory. */
  tls?: ClusterTls;
}

export const STATE_FILE = "state.json";

export function stateFilePath(stateDir: string): string {
  return join(stateDir, STATE_FILE);
}

/** The file text each state object was last written as or read from: tells a state file
 * another process changed from one this process wrote itself. */
const seen = new WeakMap<ClusterState, string>();

export function writeState(state: ClusterState): void {
  mkdirSync(state.stateDir, { recursive: true });
  const file = stateFilePath(state.stateDir);
  const text = JSON.stringify(state, null, 2) + "\n";
  writeFileSync(file + ".tmp", text);
  renameSync(file + ".tmp", file);
  seen.set(state, text);
}

function parseState(file: string, text: string): ClusterState {
  const s = JSON.parse(text) as ClusterState;
  if (s.version !== 1) throw new Error(`${file}: unknown state version ${String(s.version)}`);
  return s;
}

export function readState(stateDir: string): ClusterState | undefined {
  const file = stateFilePath(stateDir);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  const s = parseState(file, text);
  seen.set(s, text);
  return s;
}

/** Brings a state object up to date with its file when another process (fleet-dev) changed
 * the file since this object was last written or read; otherwise leaves it alone (so
 * concurrent operations on it in this process keep their records). True if it changed. */
export function refreshState(state: ClusterState): boolean {
  const file = stateFilePath(state.stateDir);
  if (!existsSync(file)) return false;
  const text = readFileSync(file, "utf8");
  if (text === seen.get(state)) return false;
  const fresh = parseState(file, text);
  for (const k of Object.keys(state) as (keyof ClusterState)[]) if (!(k in fresh)) delete state[k];
  Object.assign(state, fresh);
  seen.set(state, text);
  return true;
}

/** Client-side environment for a cluster: what `fleet-dev up` prints as export lines. Pure. */
export function clientEnv(state: ClusterState): Record<string, string> {
  const env: Record<string, string> = {};
  if (state.endpoints.api) env.FLEETCTL_ENDPOINT = state.endpoints.api;
  if (state.endpoints.apiHttp) env.FLEET_API_V1 = state.endpoints.apiHttp;
  const gateways = gatewayEndpoints(state);
  if (gateways.length > 0) env.FLEET_GATEWAY_ENDPOINT = gateways.join(",");
  if (state.endpoints.nats) env.FLEET_NATS_SERVERS = state.endpoints.nats;
  const etcd = etcdServers(state);
  if (etcd.length > 0) env.FLEET_ETCD_SERVERS = etcd.join(",");
  env.FLEET_DEV_STATE = state.stateDir;
  if (state.tls) Object.assign(env, fleetctlTlsEnv(state.tls));
  if (state.auth && existsSync(state.auth.adminTokenFile)) env.FLEETCTL_TOKEN = readFileSync(state.auth.adminTokenFile, "utf8").trim();
  if (state.ssh) {
    // fleetctl ssh/status/journal/--tunnel: the cluster's agent holds its key, its own
    // known_hosts has every machine's host key, and the user is fleet's default.
    env.SSH_AUTH_SOCK = state.ssh.agentSocket;
    env.FLEETCTL_SSH_USERNAME = state.ssh.user;
    env.FLEETCTL_KNOWN_HOSTS_FILE = state.ssh.knownHostsFile;
  }
  return env;
}

/** Every gateway's host:port (older state files: the one gateway). Pure. */
export function gatewayEndpoints(state: Pick<ClusterState, "endpoints">): string[] {
  return state.endpoints.gateways ?? (state.endpoints.gateway ? [state.endpoints.gateway] : []);
}

/** Every etcd member's client URL (older state files: the one member). Pure. */
export function etcdServers(state: Pick<ClusterState, "endpoints">): string[] {
  return state.endpoints.etcdServers ?? (state.endpoints.etcd ? [state.endpoints.etcd] : []);
}

/** Any recorded process (component or machine) still alive? */
export function anyAlive(state: ClusterState): boolean {
  return (
    state.components.some((c) => isAlive({ pid: c.pid, startTime: c.startTime })) ||
    state.machines.some((m) => m.nspawnPid !== undefined && isAlive({ pid: m.nspawnPid, startTime: m.nspawnStartTime })) ||
    (state.ssh !== undefined && isAlive({ pid: state.ssh.agentPid, startTime: state.ssh.agentStartTime }))
  );
}

// The JSON state file of a sandbox cluster: every PID, port and machine, so that another
// process (fleet-dev down/status/exec/kill, a test's afterAll) can find and stop it all.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MachineRecord } from "./machine.js";
import { isAlive } from "./proc.js";

export type ComponentKind = "etcd" | "nats" | "registry-gateway" | "engine" | "api";

export interface ComponentRecord {
  /** Unique in the cluster: "etcd", "nats", "registry-gateway", "engine-1", "engine-2", "api". */
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
  /** etcd: where /health answers. */
  healthUrl?: string;
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
  endpoints: {
    etcd?: string;
    etcdMetrics?: string;
    nats?: string;
    natsMonitor?: string;
    gateway?: string;
    api?: string;
    /** fleet's HTTP API v1: http://host:port */
    apiHttp?: string;
  };
  components: ComponentRecord[];
  machines: MachineRecord[];
}

export const STATE_FILE = "state.json";

export function stateFilePath(stateDir: string): string {
  return join(stateDir, STATE_FILE);
}

export function writeState(state: ClusterState): void {
  mkdirSync(state.stateDir, { recursive: true });
  const file = stateFilePath(state.stateDir);
  writeFileSync(file + ".tmp", JSON.stringify(state, null, 2) + "\n");
  renameSync(file + ".tmp", file);
}

export function readState(stateDir: string): ClusterState | undefined {
  const file = stateFilePath(stateDir);
  if (!existsSync(file)) return undefined;
  const s = JSON.parse(readFileSync(file, "utf8")) as ClusterState;
  if (s.version !== 1) throw new Error(`${file}: unknown state version ${String(s.version)}`);
  return s;
}

/** Client-side environment for a cluster: what `fleet-dev up` prints as export lines. Pure. */
export function clientEnv(state: ClusterState): Record<string, string> {
  const env: Record<string, string> = {};
  if (state.endpoints.api) env.FLEETCTL_ENDPOINT = state.endpoints.api;
  if (state.endpoints.apiHttp) env.FLEET_API_V1 = state.endpoints.apiHttp;
  if (state.endpoints.gateway) env.FLEET_GATEWAY_ENDPOINT = state.endpoints.gateway;
  if (state.endpoints.nats) env.FLEET_NATS_SERVERS = state.endpoints.nats;
  if (state.endpoints.etcd) env.FLEET_ETCD_SERVERS = state.endpoints.etcd;
  env.FLEET_DEV_STATE = state.stateDir;
  return env;
}

/** Any recorded process (component or machine) still alive? */
export function anyAlive(state: ClusterState): boolean {
  return (
    state.components.some((c) => isAlive({ pid: c.pid, startTime: c.startTime })) ||
    state.machines.some((m) => m.nspawnPid !== undefined && isAlive({ pid: m.nspawnPid, startTime: m.nspawnStartTime }))
  );
}

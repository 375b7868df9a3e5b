import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { freePorts } from "./ports.js";
import { isAlive, logTail, spawnLogged, terminate, waitFor, WaitAborted } from "./proc.js";

export const ETCD_BIN = "/usr/bin/etcd";

export interface EtcdOptions {
  /** Directory for the data dir and the log. */
  dir: string;
  name?: string;
  detached?: boolean;
  timeoutMs?: number;
}

export interface EtcdHandle {
  endpoint: string;
  metricsUrl: string;
  pid: number;
  startTime: string;
  dataDir: string;
  logFile: string;
  /** Command line (binary first): lets a test restart it with the same ports and data. */
  argv: string[];
  stop(): Promise<void>;
}

/** etcd's command line for one loopback member. Pure. */
export function etcdArgs(o: { name: string; dataDir: string; clientPort: number; peerPort: number; metricsPort: number }): string[] {
  const client = `http://127.0.0.1:${o.clientPort}`;
  const peer = `http://127.0.0.1:${o.peerPort}`;
  return [
    "--name", o.name,
    "--data-dir", o.dataDir,
    "--listen-client-urls", client,
    "--advertise-client-urls", client,
    "--listen-peer-urls", peer,
    "--initial-advertise-peer-urls", peer,
    "--initial-cluster", `${o.name}=${peer}`,
    "--initial-cluster-state", "new",
    "--listen-metrics-urls", `http://127.0.0.1:${o.metricsPort}`,
    "--log-level", "warn",
  ];
}

export async function etcdHealthy(metricsUrl: string): Promise<boolean> {
  const res = await fetch(`${metricsUrl}/health`, { signal: AbortSignal.timeout(1_000) });
  if (!res.ok) return false;
  const body = (await res.json()) as { health?: string };
  return body.health === "true";
}

export async function startEtcdLocal(o: EtcdOptions): Promise<EtcdHandle> {
  const name = o.name ?? "etcd";
  const dataDir = join(o.dir, `${name}-data`);
  const logFile = join(o.dir, `${name}.log`);
  mkdirSync(o.dir, { recursive: true });
  rmSync(dataDir, { recursive: true, force: true });
  const [clientPort, peerPort, metricsPort] = (await freePorts(3)) as [number, number, number];
  const args = etcdArgs({ name, dataDir, clientPort, peerPort, metricsPort });
  const proc = await spawnLogged({
    cmd: ETCD_BIN,
    args,
    logFile,
    detached: o.detached,
  });
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const stop = async () => {
    await terminate(proc, 10_000);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `etcd health at ${metricsUrl}/health`,
      () => {
        if (!isAlive(proc)) throw new WaitAborted(`etcd (pid ${proc.pid}) exited:\n${logTail(logFile)}`);
        return etcdHealthy(metricsUrl);
      },
      { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 100 },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint, metricsUrl, pid: proc.pid, startTime: proc.startTime, dataDir, logFile, argv: [ETCD_BIN, ...args], stop };
}

/** Reads one key through etcd's v3 JSON gateway (no client library); undefined if absent. */
export async function etcdGet(endpoint: string, key: string, timeoutMs = 2_000): Promise<string | undefined> {
  const res = await fetch(`${endpoint}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: Buffer.from(key).toString("base64") }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`etcd range ${key}: HTTP ${res.status}`);
  const body = (await res.json()) as { kvs?: { value?: string }[] };
  const v = body.kvs?.[0]?.value;
  return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
}

/** Which engine id a leadership value names: the value itself or a JSON object's id. Pure. */
export function leaderIdOf(value: string): string {
  try {
    const j = JSON.parse(value) as unknown;
    if (j && typeof j === "object") {
      const o = j as Record<string, unknown>;
      for (const k of ["id", "candidateId", "leaderId", "engineId"]) if (typeof o[k] === "string") return o[k];
    }
    if (typeof j === "string") return j;
  } catch {
    /* plain text */
  }
  return value.trim();
}

/** The engine component that holds leadership in a cluster, if any. */
export async function leaderEngineOf(
  state: { endpoints: { etcd?: string }; components: { name: string; kind: string; pid: number }[] },
  keyPrefix = "/fleet/",
): Promise<{ name: string; pid: number } | undefined> {
  if (!state.endpoints.etcd) return undefined;
  const v = await etcdGet(state.endpoints.etcd, `${keyPrefix}engine/leader`);
  if (v === undefined) return undefined;
  const id = leaderIdOf(v);
  const c = state.components.find((x) => x.kind === "engine" && x.name === id);
  return c ? { name: c.name, pid: c.pid } : undefined;
}

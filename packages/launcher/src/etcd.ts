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

export interface EtcdMemberSpec {
  name: string;
  dataDir: string;
  clientPort: number;
  peerPort: number;
  metricsPort: number;
}

const loopback = (port: number): string => `http://127.0.0.1:${port}`;

/** etcd's static bootstrap list: "etcd-1=http://127.0.0.1:P1,etcd-2=...". Pure. */
export function initialClusterString(members: readonly Pick<EtcdMemberSpec, "name" | "peerPort">[]): string {
  return members.map((m) => `${m.name}=${loopback(m.peerPort)}`).join(",");
}

/** etcd's command line for one loopback member. Pure. Alone unless initialCluster names the
 * others (see initialClusterString); a token keeps side-by-side clusters apart. */
export function etcdArgs(o: EtcdMemberSpec & { initialCluster?: string; clusterToken?: string }): string[] {
  const client = loopback(o.clientPort);
  const peer = loopback(o.peerPort);
  return [
    "--name", o.name,
    "--data-dir", o.dataDir,
    "--listen-client-urls", client,
    "--advertise-client-urls", client,
    "--listen-peer-urls", peer,
    "--initial-advertise-peer-urls", peer,
    "--initial-cluster", o.initialCluster ?? `${o.name}=${peer}`,
    "--initial-cluster-state", "new",
    ...(o.clusterToken ? ["--initial-cluster-token", o.clusterToken] : []),
    "--listen-metrics-urls", loopback(o.metricsPort),
    "--log-level", "warn",
  ];
}

/** The command line that starts a member again on its data dir: the same, with
 * --initial-cluster-state existing (it rejoins its cluster instead of founding one). Pure. */
export function etcdRejoinArgv(argv: readonly string[]): string[] {
  const out = [...argv];
  const i = out.indexOf("--initial-cluster-state");
  if (i >= 0 && i + 1 < out.length) out[i + 1] = "existing";
  return out;
}

export async function etcdHealthy(metricsUrl: string): Promise<boolean> {
  const res = await fetch(`${metricsUrl}/health`, { signal: AbortSignal.timeout(1_000) });
  if (!res.ok) return false;
  const body = (await res.json()) as { health?: string };
  return body.health === "true";
}

export async function startEtcdLocal(o: EtcdOptions): Promise<EtcdHandle> {
  const [h] = await startEtcdClusterLocal({ ...o, members: 1, ...(o.name ? { names: [o.name] } : {}) });
  return h!;
}

export interface EtcdClusterOptions {
  /** Directory for the members' data dirs and logs. */
  dir: string;
  members: number;
  /** Member names; default "etcd" for one member, else etcd-1..etcd-N. */
  names?: string[];
  /** --initial-cluster-token (members > 1); default: derived from dir. */
  clusterToken?: string;
  detached?: boolean;
  timeoutMs?: number;
}

/** Starts an N-member etcd cluster on loopback (static bootstrap, own ports and data dir per
 * member) and waits until every member reports healthy (which needs a quorum and a leader). */
export async function startEtcdClusterLocal(o: EtcdClusterOptions): Promise<EtcdHandle[]> {
  const n = o.members;
  const names = o.names ?? (n === 1 ? ["etcd"] : Array.from({ length: n }, (_, i) => `etcd-${i + 1}`));
  if (names.length !== n) throw new Error(`etcd: ${n} members but ${names.length} names`);
  mkdirSync(o.dir, { recursive: true });
  const ports = await freePorts(3 * n);
  const specs: EtcdMemberSpec[] = names.map((name, i) => ({
    name,
    dataDir: join(o.dir, `${name}-data`),
    clientPort: ports[3 * i]!,
    peerPort: ports[3 * i + 1]!,
    metricsPort: ports[3 * i + 2]!,
  }));
  const initialCluster = n > 1 ? initialClusterString(specs) : undefined;
  const clusterToken = n > 1 ? (o.clusterToken ?? `fleet-${o.dir.replace(/[^A-Za-z0-9]+/g, "-")}`) : undefined;
  const handles: EtcdHandle[] = [];
  const stopAll = () => Promise.all(handles.map((h) => h.stop()));
  try {
    for (const spec of specs) {
      rmSync(spec.dataDir, { recursive: true, force: true });
      const args = etcdArgs({ ...spec, ...(initialCluster ? { initialCluster } : {}), ...(clusterToken ? { clusterToken } : {}) });
      const logFile = join(o.dir, `${spec.name}.log`);
      const proc = await spawnLogged({ cmd: ETCD_BIN, args, logFile, detached: o.detached });
      handles.push({
        endpoint: loopback(spec.clientPort),
        metricsUrl: loopback(spec.metricsPort),
        pid: proc.pid,
        startTime: proc.startTime,
        dataDir: spec.dataDir,
        logFile,
        argv: [ETCD_BIN, ...args],
        stop: async () => {
          await terminate(proc, 10_000);
          rmSync(spec.dataDir, { recursive: true, force: true });
        },
      });
    }
    await Promise.all(
      handles.map((h, i) =>
        waitFor(
          `etcd member ${names[i]} health at ${h.metricsUrl}/health`,
          () => {
            if (!isAlive(h)) throw new WaitAborted(`etcd member ${names[i]} (pid ${h.pid}) exited:\n${logTail(h.logFile)}`);
            return etcdHealthy(h.metricsUrl);
          },
          { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 100 },
        ),
      ),
    );
  } catch (e) {
    await stopAll();
    throw e;
  }
  return handles;
}

/** Reads one key through etcd's v3 JSON gateway (no client library); undefined if absent.
 * serializable: answer from this member's own copy (no quorum needed). */
export async function etcdGet(endpoint: string, key: string, timeoutMs = 2_000, o: { serializable?: boolean } = {}): Promise<string | undefined> {
  const res = await fetch(`${endpoint}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: Buffer.from(key).toString("base64"), ...(o.serializable ? { serializable: true } : {}) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`etcd range ${key}: HTTP ${res.status}`);
  const body = (await res.json()) as { kvs?: { value?: string }[] };
  const v = body.kvs?.[0]?.value;
  return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
}

/** etcdGet from the first member that answers (members may be down). */
export async function etcdGetAny(endpoints: readonly string[], key: string, timeoutMs = 2_000): Promise<string | undefined> {
  let last: unknown;
  for (const e of endpoints) {
    try {
      return await etcdGet(e, key, timeoutMs);
    } catch (err) {
      last = err;
    }
  }
  throw last instanceof Error ? last : new Error(`no etcd member answered for ${key}`);
}

/** etcd's member list through one member's v3 JSON gateway: names and client URLs. */
export async function etcdMembers(endpoint: string, timeoutMs = 2_000): Promise<{ id: string; name: string; clientURLs: string[] }[]> {
  const res = await fetch(`${endpoint}/v3/cluster/member/list`, { method: "POST", body: "{}", signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`etcd member list: HTTP ${res.status}`);
  const body = (await res.json()) as { members?: { ID?: string; name?: string; clientURLs?: string[] }[] };
  return (body.members ?? []).map((m) => ({ id: m.ID ?? "", name: m.name ?? "", clientURLs: m.clientURLs ?? [] }));
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
  state: { endpoints: { etcd?: string; etcdServers?: string[] }; components: { name: string; kind: string; pid: number }[] },
  keyPrefix = "/fleet/",
): Promise<{ name: string; pid: number } | undefined> {
  const servers = state.endpoints.etcdServers ?? (state.endpoints.etcd ? [state.endpoints.etcd] : []);
  if (servers.length === 0) return undefined;
  const v = await etcdGetAny(servers, `${keyPrefix}engine/leader`);
  if (v === undefined) return undefined;
  const id = leaderIdOf(v);
  const c = state.components.find((x) => x.kind === "engine" && x.name === id);
  return c ? { name: c.name, pid: c.pid } : undefined;
}

// etcd requests from its /metrics, counted as the run bench counts them (bench/README.md,
// "How etcd requests are counted"): grpc_server_handled_total of KV Range/Put/Txn/DeleteRange
// and of the Lease unary methods, plus LeaseKeepAlive stream messages received. Watch stream
// messages are reported apart and not counted.
import { performance } from "node:perf_hooks";

const KV_METHODS = ["Range", "Put", "Txn", "DeleteRange"];
const LEASE_UNARY = ["LeaseGrant", "LeaseRevoke", "LeaseTimeToLive", "LeaseLeases"];

/** etcd's lease counters, kept for the timeline: granted, renewed, revoked, and expired (revoked
 * by etcd itself because nobody renewed them). */
const LEASE_COUNTERS: Record<string, string> = {
  etcd_debugging_lease_granted_total: "granted",
  etcd_debugging_lease_renewed_total: "renewed",
  etcd_debugging_lease_revoked_total: "revoked",
  etcd_debugging_server_lease_expired_total: "expired",
};

export interface EtcdCounters {
  handled: Record<string, number>;
  received: Record<string, number>;
  started: Record<string, number>;
  leases: Record<string, number>;
}

export type EtcdScrape = EtcdCounters & { at: number };

/** Sums of etcd's per-method counters and its lease counters in a /metrics text. Pure. */
export function parseEtcdMetrics(text: string): EtcdCounters {
  const maps: EtcdCounters = { handled: {}, received: {}, started: {}, leases: {} };
  for (const line of text.split("\n")) {
    const plain = /^(\w+) (\S+)$/.exec(line);
    const counter = plain ? LEASE_COUNTERS[plain[1]!] : undefined;
    if (plain && counter) maps.leases[counter] = Number(plain[2]);
    const m = /^grpc_server_(handled|msg_received|started)_total\{(.*)\}\s+(\S+)$/.exec(line);
    if (!m) continue;
    const target = maps[m[1] === "msg_received" ? "received" : (m[1] as "handled" | "started")];
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key = `${labels.grpc_service}/${labels.grpc_method}`;
    target[key] = (target[key] ?? 0) + Number(m[3]);
  }
  return maps;
}

export async function scrapeEtcd(metricsUrl: string): Promise<EtcdScrape> {
  const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  return { at: performance.now(), ...parseEtcdMetrics(await res.text()) };
}

export type EtcdRate = ReturnType<typeof etcdRate>;

/** Requests between two scrapes, per second, with the per-method split. Pure. */
export function etcdRate(a: EtcdScrape, b: EtcdScrape) {
  const d = (map: "handled" | "received" | "started", key: string) => (b[map][key] ?? 0) - (a[map][key] ?? 0);
  const seconds = (b.at - a.at) / 1000;
  const byMethod: Record<string, number> = {};
  let total = 0;
  for (const m of KV_METHODS) total += byMethod[m] = d("handled", `etcdserverpb.KV/${m}`);
  for (const m of LEASE_UNARY) total += byMethod[m] = d("handled", `etcdserverpb.Lease/${m}`);
  total += byMethod.LeaseKeepAlive = d("received", "etcdserverpb.Lease/LeaseKeepAlive");
  // Streams opened: a new keep-alive stream per heartbeat shows up here.
  const keepAliveStreams = d("started", "etcdserverpb.Lease/LeaseKeepAlive");
  const perSecond: Record<string, number> = {};
  for (const [k, v] of Object.entries(byMethod)) if (v) perSecond[k] = Math.round((10 * v) / seconds) / 10;
  return {
    seconds: Math.round(seconds * 10) / 10,
    requests: total,
    perSecond: Math.round((10 * total) / seconds) / 10,
    byMethodPerSecond: perSecond,
    keepAliveStreamsOpened: keepAliveStreams,
    keepAliveStreamsOpenedPerSecond: Math.round((10 * keepAliveStreams) / seconds) / 10,
    watchMessages: d("received", "etcdserverpb.Watch/Watch"),
    leases: Object.fromEntries(Object.keys(b.leases).map((k) => [k, b.leases[k]! - (a.leases[k] ?? 0)])) as Record<string, number>,
  };
}

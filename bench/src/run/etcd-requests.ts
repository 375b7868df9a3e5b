// Figure 5: etcd requests counted from etcd's own /metrics, background and the bench's own
// polls subtracted (bench/README.md, "How etcd requests are counted").
import type { Api } from "./api.js";
import { ETCD_POLL_MS, now, round, sleep } from "./config.js";

export interface Scrape {
  at: number;
  /** "service/method" -> requests handled (all codes). */
  handled: Record<string, number>;
  /** "service/method" -> stream messages received. */
  received: Record<string, number>;
  hasReceived: boolean;
}

export async function scrapeEtcd(metricsUrl: string): Promise<Scrape> {
  const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  const handled: Record<string, number> = {};
  const received: Record<string, number> = {};
  for (const line of text.split("\n")) {
    let m = /^grpc_server_handled_total\{(.*)\}\s+(\S+)$/.exec(line);
    const target = m ? handled : (m = /^grpc_server_msg_received_total\{(.*)\}\s+(\S+)$/.exec(line)) ? received : undefined;
    if (!target || !m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key = `${labels.grpc_service}/${labels.grpc_method}`;
    target[key] = (target[key] ?? 0) + Number(m[2]);
  }
  return { at: now(), handled, received, hasReceived: text.includes("grpc_server_msg_received_total") };
}

const KV_METHODS = ["Range", "Put", "Txn", "DeleteRange"];
const LEASE_UNARY = ["LeaseGrant", "LeaseRevoke", "LeaseTimeToLive", "LeaseLeases"];

export interface EtcdDelta {
  seconds: number;
  kv: number;
  lease: number;
  unary: number;
  keepAlives: number;
  total: number;
  watchMsgs: number;
  byMethod: Record<string, number>;
}

/** Counts between two scrapes: unary KV + Lease requests, keepalive messages, watch messages. */
export function etcdDelta(a: Scrape, b: Scrape): EtcdDelta {
  const d = (map: "handled" | "received", key: string) => (b[map][key] ?? 0) - (a[map][key] ?? 0);
  const byMethod: Record<string, number> = {};
  let kv = 0;
  for (const m of KV_METHODS) {
    const v = d("handled", `etcdserverpb.KV/${m}`);
    byMethod[m] = v;
    kv += v;
  }
  let lease = 0;
  for (const m of LEASE_UNARY) {
    const v = d("handled", `etcdserverpb.Lease/${m}`);
    byMethod[m] = v;
    lease += v;
  }
  const keepAlives = d("received", "etcdserverpb.Lease/LeaseKeepAlive");
  const watchMsgs = d("received", "etcdserverpb.Watch/Watch");
  byMethod.LeaseKeepAlive = keepAlives;
  const seconds = (b.at - a.at) / 1000;
  return { seconds, kv, lease, unary: kv + lease, keepAlives, total: kv + lease + keepAlives, watchMsgs, byMethod };
}

export interface IdleRate {
  seconds: number | null;
  perSecond: number;
  unaryPerSecond: number | null;
  delta: EtcdDelta;
}

/** Idle etcd request rate (requests/s) over `ms`, nothing of ours running. */
export async function idleRate(metricsUrl: string, ms: number): Promise<IdleRate> {
  const a = await scrapeEtcd(metricsUrl);
  await sleep(ms);
  const b = await scrapeEtcd(metricsUrl);
  const d = etcdDelta(a, b);
  return { seconds: round(d.seconds, 2), perSecond: round(d.total / d.seconds, 2) ?? 0, unaryPerSecond: round(d.unary / d.seconds, 2), delta: d };
}

export interface PollCost {
  polls: number;
  perPoll: number;
  raw: number;
  seconds: number | null;
}

/** etcd requests caused by one listUnitStates poll (idle cluster), so it can be subtracted. */
export async function pollCost(api: Api, metricsUrl: string, idle: IdleRate, ms = 3_000): Promise<PollCost> {
  const a = await scrapeEtcd(metricsUrl);
  const c0 = api.calls.listUnitStates;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await api.states([]);
    await sleep(ETCD_POLL_MS);
  }
  const b = await scrapeEtcd(metricsUrl);
  const polls = api.calls.listUnitStates - c0;
  const d = etcdDelta(a, b);
  const net = d.total - idle.perSecond * d.seconds;
  return { polls, perPoll: round(Math.max(0, net) / polls, 3) ?? 0, raw: d.total, seconds: round(d.seconds, 2) };
}

export type EtcdFigure = ReturnType<typeof etcdFigure>;

export function etcdFigure(delta: EtcdDelta, units: number, idle: IdleRate, polls: number, perPoll: number) {
  const background = idle.perSecond * delta.seconds;
  const pollReqs = polls * perPoll;
  const net = delta.total - background - pollReqs;
  return {
    units,
    windowSeconds: round(delta.seconds, 2),
    raw: delta.total,
    rawPerUnit: round(delta.total / units, 2),
    idlePerSecond: idle.perSecond,
    backgroundSubtracted: round(background, 1),
    benchPolls: polls,
    pollRequestsSubtracted: round(pollReqs, 1),
    net: round(net, 1),
    netPerUnit: round(net / units, 2),
    keepAlivesIncluded: true,
    byMethod: delta.byMethod,
    watchMessages: delta.watchMsgs,
  };
}

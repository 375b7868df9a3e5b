// A timeline of the whole run, every few seconds: machines in ListMachines (and how long that
// call took), CPU % of every process we started, the simulators' registrations, warnings and
// event-loop delay, and the load average. Logged as one line per sample, kept for the JSON:
// when something flaps, this shows which process was saturated at the time.
import { performance } from "node:perf_hooks";
import { etcdRate, scrapeEtcd, type EtcdRate, type EtcdScrape } from "./etcd-metrics.js";
import type { FleetApi } from "./fleet-api.js";
import { cpuPercent, cpuSnapshot, load, runQueueWaitPercent, type NamedProc } from "./proc-stats.js";
import type { Simulators } from "./simulators.js";

const PERIOD_MS = 5000;

export interface Sample {
  t: number;
  load: number | undefined;
  listed?: number;
  listMs?: number;
  listError?: string;
  registrations?: number;
  simLoopP99Ms?: number;
  simLoopMaxMs?: number;
  heartbeatFailures?: number;
  simError?: string;
  etcd?: Pick<EtcdRate, "perSecond" | "byMethodPerSecond" | "keepAliveStreamsOpened" | "leases">;
  etcdError?: string;
  cpu?: Record<string, number>;
  runQueueWait?: Record<string, number>;
}

export interface SamplerOptions {
  api: FleetApi;
  simulators: Simulators;
  /** The processes to watch now. */
  procs: () => NamedProc[];
  etcdMetricsUrl: string;
  log: (m: string) => void;
  t0: number;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 80);

export function startSampler({ api, simulators, procs, etcdMetricsUrl, log, t0 }: SamplerOptions): { samples: Sample[]; stop(): void } {
  const samples: Sample[] = [];
  let etcd = await0(scrapeEtcd(etcdMetricsUrl));
  let cpu = cpuSnapshot(procs());
  let lastRegistrations = 0;
  let stopped = false;
  let timer: NodeJS.Timeout;
  const tick = async () => {
    const sample: Sample = { t: Math.round((performance.now() - t0) / 100) / 10, load: load()[0] };
    try {
      const a = performance.now();
      const { ids } = await api.machineIds();
      sample.listed = ids.size;
      sample.listMs = Math.round(performance.now() - a);
    } catch (err) {
      sample.listError = message(err);
    }
    try {
      const s = await simulators.stats();
      sample.registrations = s.registrations - lastRegistrations;
      lastRegistrations = s.registrations;
      sample.simLoopP99Ms = s.loopDelayP99Ms;
      sample.simLoopMaxMs = s.loopDelayMaxMs;
      sample.heartbeatFailures = s.warnings["heartbeat failed; retrying"] ?? 0;
    } catch (err) {
      sample.simError = message(err);
    }
    try {
      const before = await etcd;
      const now = await scrapeEtcd(etcdMetricsUrl);
      etcd = Promise.resolve(now);
      if (!before) throw new Error("no earlier etcd scrape");
      const r = etcdRate(before, now);
      sample.etcd = { perSecond: r.perSecond, byMethodPerSecond: r.byMethodPerSecond, keepAliveStreamsOpened: r.keepAliveStreamsOpened, leases: r.leases };
    } catch (err) {
      etcd = await0(scrapeEtcd(etcdMetricsUrl));
      sample.etcdError = message(err);
    }
    const next = cpuSnapshot(procs());
    const cpuNow = (sample.cpu = cpuPercent(cpu, next));
    const waitNow = (sample.runQueueWait = runQueueWaitPercent(cpu, next));
    cpu = next;
    samples.push(sample);
    const busiest = Object.entries(cpuNow).sort((x, y) => y[1] - x[1]).slice(0, 4).map(([n, v]) => `${n} ${v}%`).join(", ");
    const e = sample.etcd;
    const leases = e ? `; etcd ${e.perSecond}/s, keep-alive streams +${e.keepAliveStreamsOpened}, leases +${e.leases.granted ?? 0} granted +${e.leases.renewed ?? 0} renewed +${e.leases.expired ?? 0} expired` : "";
    const waits = ["registry-gateway", "etcd", "api", "engine-1"].filter((n) => waitNow[n] !== undefined).map((n) => `${n} ${waitNow[n]}%`).join(", ");
    log(`sample: listed ${sample.listed ?? sample.listError} (${sample.listMs ?? "-"} ms), +${sample.registrations ?? "?"} registrations, ${sample.heartbeatFailures ?? "?"} heartbeat failures so far, sim loop p99 ${sample.simLoopP99Ms ?? "?"} ms max ${sample.simLoopMaxMs ?? "?"} ms${leases}; CPU ${busiest}; waiting for a core ${waits}; load ${sample.load}`);
    if (!stopped) timer = setTimeout(() => void tick(), PERIOD_MS);
  };
  timer = setTimeout(() => void tick(), PERIOD_MS);
  return {
    samples,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** A scrape that may fail, as a promise that never rejects (undefined then). */
function await0(p: Promise<EtcdScrape>): Promise<EtcdScrape | undefined> {
  return p.catch(() => undefined);
}

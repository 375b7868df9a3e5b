// A timeline of the whole run, every few seconds: machines in ListMachines (and how long that
// call took), CPU % of every process we started, the simulators' registrations, warnings and
// event-loop delay, and the load average. Logged as one line per sample, kept for the JSON:
// when something flaps, this shows which process was saturated at the time.
import { etcdRate, scrapeEtcd } from "./etcd-metrics.mjs";
import { cpuPercent, cpuSnapshot, load, runQueueWaitPercent } from "./proc-stats.mjs";

const PERIOD_MS = 5000;

/** procs: () => the processes to watch now ({name, pid}). */
export function startSampler({ api, simulators, procs, etcdMetricsUrl, log, t0 }) {
  const samples = [];
  let etcd = await0(scrapeEtcd(etcdMetricsUrl));
  let cpu = cpuSnapshot(procs());
  let lastRegistrations = 0;
  let stopped = false;
  let timer;
  const tick = async () => {
    const sample = { t: Math.round((performance.now() - t0) / 100) / 10, load: load()[0] };
    try {
      const a = performance.now();
      const { ids } = await api.machineIds();
      sample.listed = ids.size;
      sample.listMs = Math.round(performance.now() - a);
    } catch (err) {
      sample.listError = err.message.slice(0, 80);
    }
    try {
      const s = await simulators.stats();
      sample.registrations = s.registrations - lastRegistrations;
      lastRegistrations = s.registrations;
      sample.simLoopP99Ms = s.loopDelayP99Ms;
      sample.simLoopMaxMs = s.loopDelayMaxMs;
      sample.heartbeatFailures = s.warnings["heartbeat failed; retrying"] ?? 0;
    } catch (err) {
      sample.simError = err.message.slice(0, 80);
    }
    try {
      const before = await etcd;
      const now = await scrapeEtcd(etcdMetricsUrl);
      etcd = now;
      const r = etcdRate(before, now);
      sample.etcd = { perSecond: r.perSecond, byMethodPerSecond: r.byMethodPerSecond, keepAliveStreamsOpened: r.keepAliveStreamsOpened, leases: r.leases };
    } catch (err) {
      etcd = await0(scrapeEtcd(etcdMetricsUrl));
      sample.etcdError = err.message.slice(0, 80);
    }
    const next = cpuSnapshot(procs());
    sample.cpu = cpuPercent(cpu, next);
    sample.runQueueWait = runQueueWaitPercent(cpu, next);
    cpu = next;
    samples.push(sample);
    const busiest = Object.entries(sample.cpu).sort((x, y) => y[1] - x[1]).slice(0, 4).map(([n, v]) => `${n} ${v}%`).join(", ");
    const e = sample.etcd;
    const leases = e ? `; etcd ${e.perSecond}/s, keep-alive streams +${e.keepAliveStreamsOpened}, leases +${e.leases.granted ?? 0} granted +${e.leases.renewed ?? 0} renewed +${e.leases.expired ?? 0} expired` : "";
    const waits = ["registry-gateway", "etcd", "api", "engine-1"].filter((n) => sample.runQueueWait[n] !== undefined).map((n) => `${n} ${sample.runQueueWait[n]}%`).join(", ");
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
function await0(p) {
  return p.catch(() => undefined);
}

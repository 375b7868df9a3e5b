#!/usr/bin/env node
// fleet's scale bench (issue 11): the real control plane on loopback (etcd, NATS,
// registry-gateway(s), 2 engines, api: the launcher's startCluster with no sandbox machine) and N
// simulated machines made of the agent's own code (sim-machine.ts) in worker processes.
// Phases: register, create units, idle figures, idle soak (--busy: cores saturated), failover.
// Prints a table and one JSON line (also bench/results/scale.json); stops everything it
// started by PID on success, failure, a signal or its deadline. See bench/README.md.
//
//   npm run bench:scale -- --machines 1000 --units 10000 --ttl 5 --busy   (builds first)
//   node bench/dist/scale/main.js --machines 50 --units 500                (after a build)
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { sleep, startCluster, waitFor, type ClusterHandle } from "@fleet/launcher";
import { startBurners, type Burners } from "./burners.js";
import { startSampler } from "./sampler.js";
import { scrapeEtcd, etcdRate } from "./etcd-metrics.js";
import { callsPerMachine, machinesHeard, scrapeGatewayCalls } from "./gateway-metrics.js";
import { FleetApi } from "./fleet-api.js";
import { parseOptions, USAGE, type ScaleOptions } from "./options.js";
import { phaseFailover } from "./phase-failover.js";
import { phaseGlobal } from "./phase-global.js";
import { phaseReads } from "./phase-reads.js";
import { phaseSoak, type Soak } from "./phase-soak.js";
import { phaseUnits } from "./phase-units.js";
import { cpuPercent, cpuSnapshot, load, rssMb, type StopResult } from "./proc-stats.js";
import { figures, renderTable, simulationWhile, targets, writeResult, type Run } from "./report.js";
import { simMachineId, Simulators } from "./simulators.js";
import { recordFailure } from "../common/failure.js";

/** The repository root (this file is bench/{src,dist}/scale/main.*). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const RESULTS_DIR = join(ROOT, "bench", "results");

export const SIMULATED = [
  "Each simulated machine is the agent's own code (services/agent/dist): Agent, GatewayRegistry, MachineLease, HeartbeatLoop, ReconcileLoop and the NATS hint subscriptions, assembled as services/agent/src/main.ts does,",
  "with its own gRPC connection to the gateway(s) and its own NATS connection, a distinct 32-hex machine id, and unit files on tmpfs.",
  "systemd is the agent tests' FakeUnitManager (services/agent/src/fake-systemd.ts): units start and stop at once in memory, no process runs, no D-Bus.",
  "Not simulated: the agent's AgentService server (journals/status), its D-Bus connection, process start-up; machines share the worker processes' event loops.",
  "The worker processes run at niceness --sim-nice (default 10): on real hosts each agent has its own machine, here they take only the CPU the control plane leaves; load generators (--busy burners) run at normal priority.",
  "The control plane is real: etcd, NATS, registry-gateway(s), 2 engines and the api as host processes on loopback (@fleet/launcher startCluster), all on this machine.",
];

const t0 = Date.now();
const log = (msg: string): void => void process.stderr.write(`[scale +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

interface ScaleResult {
  startedAt: string;
  options: ScaleOptions;
  host: { node: string; cpus: number; loadavgAtStart: number[]; loadavgAtEnd?: number[] };
  commit: string | undefined;
  simulated: string[];
  errors: string[];
  cleanup?: StopResult;
  logsKept?: string | null;
  durationSeconds?: number;
}

async function main(): Promise<void> {
  let o: ScaleOptions;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(64);
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const runHex = randomBytes(4).toString("hex");
  const stateDir = `/var/tmp/fleet-dev/scale-${runHex}`;
  const unitsDir = `/dev/shm/fleet-scale-${runHex}`;
  const ids = Array.from({ length: o.machines }, (_, i) => simMachineId(runHex, i));
  const names = Array.from({ length: o.units }, (_, i) => `scale-${runHex}-${i}.service`);
  const result: ScaleResult = {
    startedAt: new Date().toISOString(),
    options: o,
    host: { node: process.version, cpus: cpus().length, loadavgAtStart: load() },
    commit: gitCommit(),
    simulated: SIMULATED,
    errors: [],
  };
  const run: Run = {};
  let cluster: ClusterHandle | undefined;
  let api: FleetApi | undefined;
  let sims: Simulators | undefined;
  let burners: Burners | undefined;
  let sampler: ReturnType<typeof startSampler> | undefined;
  let cleaning: Promise<StopResult> | undefined;
  const cleanup = (keepLogs: boolean) =>
    (cleaning ??= (async () => {
      const report: StopResult = { stopped: [], errors: [] };
      const add = (r: Partial<StopResult>) => {
        report.stopped.push(...(r.stopped ?? []));
        report.errors.push(...(r.errors ?? []));
      };
      sampler?.stop();
      if (burners) add(await burners.stop());
      api?.close();
      if (sims) add(await sims.stop());
      if (cluster) add(await cluster.stop({ removeState: !keepLogs }).catch((e: unknown) => ({ errors: [String(e)] })));
      rmSync(unitsDir, { recursive: true, force: true });
      log(`cleanup: stopped ${report.stopped.length} process(es) we started (${report.stopped.join(", ")}); removed ${unitsDir}${keepLogs ? `; logs kept in ${stateDir}` : `; removed ${stateDir}`}`);
      if (report.errors.length) log(`cleanup errors: ${report.errors.join("; ")}`);
      return report;
    })());
  const abort = (why: string, code: number) => {
    log(`${why}: cleaning up`);
    result.errors.push(why);
    void cleanup(true).finally(() => {
      finish(result, o, run);
      process.exit(code);
    });
  };
  process.once("SIGINT", () => abort("got SIGINT", 130));
  process.once("SIGTERM", () => abort("got SIGTERM", 130));
  const watchdog = setTimeout(() => abort(`deadline of ${o.deadline} s passed`, 2), o.deadline * 1000);

  try {
    log(`starting the control plane in ${stateDir} (agent_ttl ${o.ttl} s, ${o.gateways} gateway(s), 2 engines, api)`);
    cluster = await startCluster({ repoRoot: ROOT, machines: [], agentTtlSeconds: o.ttl, reconcileIntervalSeconds: o.reconcile, stateDir, cluster: `scale-${runHex}`, gateways: o.gateways, hintSpreadRate: o.hintSpreadRate, engines: 2, log: (m) => log(`launcher: ${m}`) });
    const ep = cluster.endpoints;
    const etcdMetrics = ep.etcdMetrics ?? "";
    api = new FleetApi(ep.api ?? "");
    sims = new Simulators({ ids, perWorker: o.perWorker, nice: o.simNice, logDir: join(stateDir, "sim") });
    log(`building ${o.machines} simulated machines in ${sims.workers.length} worker process(es) (pids ${sims.pids.map((p) => p.pid).join(", ")})`);
    await sims.init({ gateway: (ep.gateways ?? []).join(","), natsServers: [ep.nats ?? ""], ttlSeconds: o.ttl, reconcileSeconds: o.reconcile, unitsDir, logLevel: o.agentLog });
    const procs = [...cluster.state.components.map((c) => ({ name: c.name, pid: c.pid })), ...sims.pids];
    const serviceLogs = cluster.state.components.filter((c) => ["registry-gateway", "engine", "api"].includes(c.kind)).map((c) => c.logFile);

    log(`starting ${o.machines} agents${o.rampSeconds ? ` spread over ${o.rampSeconds} s` : " at once"}`);
    const callsAtGo = await scrapeGatewayCalls(cluster.state.components);
    const tGo = performance.now();
    sampler = startSampler({ api, simulators: sims, procs: () => [...procs, ...(burners?.procs ?? [])], etcdMetricsUrl: etcdMetrics, log, t0: tGo });
    run.timeline = sampler.samples;
    sims.go(o.rampSeconds * 1000);
    let listed = 0;
    let most = 0;
    await waitFor(
      `${o.machines} machines in ListMachines`,
      async () => {
        listed = (await api!.machineIds()).ids.size;
        most = Math.max(most, listed);
        // Every 100 ms near the end, every 500 ms before: a list of 1,000 machines ten times a
        // second costs the api and the gateway a share of the cores the registrations need.
        if (listed < o.machines * 0.9) await sleep(400);
        return listed >= o.machines;
      },
      { timeoutMs: 120_000 + o.rampSeconds * 1000, intervalMs: 100 },
    ).catch((err: Error) => {
      throw new Error(`registration did not converge: ${listed} of ${o.machines} listed at the end, at most ${most} (${err.message}); see the timeline`);
    });
    run.registerMs = performance.now() - tGo;
    log(`all ${o.machines} registered in ${Math.round(run.registerMs)} ms`);
    const callsRegistered = await scrapeGatewayCalls(cluster.state.components);
    run.gatewayCallsPerMachine = { register: callsPerMachine(callsAtGo, callsRegistered, o.machines) };
    log(`gateway calls per machine to register: ${JSON.stringify(run.gatewayCallsPerMachine.register)}`);

    if (o.units > 0) {
      const [simsBefore, samplesFrom] = [await sims.stats(), sampler.samples.length];
      run.units = await phaseUnits(api, names, { timeoutMs: 180_000, log });
      run.unitsSimulation = simulationWhile(simsBefore, await sims.stats(), sampler.samples.slice(samplesFrom));
      log(`while the units started: ${run.unitsSimulation.reRegistrations} machines registered again (lost meanwhile), ${run.unitsSimulation.heartbeatFailures} heartbeats failed, simulator loop lag p99 up to ${run.unitsSimulation.loopP99MaxMs} ms`);
      run.gatewayCallsPerMachine.units = callsPerMachine(callsRegistered, await scrapeGatewayCalls(cluster.state.components), o.machines);
      log(`gateway calls per machine while the units were created and started: ${JSON.stringify(run.gatewayCallsPerMachine.units)}`);
    }

    log(`settling 5 s, then ${o.idleSeconds} s of quiet for idle CPU, RSS and etcd figures`);
    await sleep(5_000);
    const [e0, c0] = [await scrapeEtcd(etcdMetrics), cpuSnapshot(procs)];
    await sleep(o.idleSeconds * 1000);
    const [e1, c1] = [await scrapeEtcd(etcdMetrics), cpuSnapshot(procs)];
    run.idle = { etcd: etcdRate(e0, e1), cpuPercent: cpuPercent(c0, c1), rssMb: rssMb(procs), load: load(), machinesHeard: await machinesHeard(cluster.state.components) };
    log(`idle: etcd ${run.idle.etcd.perSecond}/s ${JSON.stringify(run.idle.etcd.byMethodPerSecond)}; CPU % ${JSON.stringify(run.idle.cpuPercent)}; machines heard by each gateway ${JSON.stringify(run.idle.machinesHeard)}`);

    if (o.soakSeconds > 0) {
      if (o.busy) {
        burners = startBurners();
        log(`--busy: ${burners.procs.length} CPU burners (pids ${burners.procs.map((p) => p.pid).join(", ")})`);
      }
      log(`soak: ${o.soakSeconds} s idle, ListMachines every second${o.busy ? ", cores saturated" : ""}`);
      const soakFrom = sampler.samples.length;
      const soak: Soak = (run.soak = await phaseSoak({ api, simulators: sims, ids, seconds: o.soakSeconds, serviceLogs, procs: [...procs, ...(burners?.procs ?? [])], log }));
      soak.simLoopMaxMs = Math.max(0, ...sampler.samples.slice(soakFrom).map((x) => x.simLoopMaxMs ?? 0));
      log(`soak: ${soak.spuriousLosses} spurious losses, ${soak.reRegistrations} re-registrations, ${soak.unitsMoved} units moved; load max ${soak.loadMax}`);
      if (burners) {
        const r = await burners.stop();
        log(`burners stopped: ${r.stopped.join(", ")}`);
        burners = undefined;
      }
    }

    if (o.units > 0 && ep.apiHttp && ep.api) run.reads = await phaseReads({ root: ROOT, apiHttp: ep.apiHttp, apiEndpoint: ep.api, log });

    if (o.globalUnits > 0) {
      const globalNames = Array.from({ length: o.globalUnits }, (_, i) => `scale-${runHex}-global-${i}.service`);
      run.global = await phaseGlobal({
        api,
        names: globalNames,
        machines: o.machines,
        spreadRate: o.hintSpreadRate,
        components: cluster.state.components,
        procs,
        simulators: sims,
        samples: () => sampler?.samples ?? [],
        timeoutMs: 120_000,
        log,
      });
    }

    if (o.failoverShare > 0) {
      run.failover = await phaseFailover({ api, simulators: sims, ids, share: o.failoverShare, timeoutMs: (3 * o.ttl + 60) * 1000, log });
    }
  } catch (err) {
    recordFailure(result, err, log);
  } finally {
    clearTimeout(watchdog);
    sampler?.stop();
  }
  const dirty = result.errors.length > 0 || (run.soak?.spuriousLosses ?? 0) > 0 || (run.soak?.reRegistrations ?? 0) > 0;
  result.cleanup = await cleanup(o.keepLogs || dirty);
  result.logsKept = o.keepLogs || dirty ? stateDir : null;
  finish(result, o, run);
}

function finish(result: ScaleResult, o: ScaleOptions, run: Run): void {
  result.host.loadavgAtEnd = load();
  result.durationSeconds = Math.round((Date.now() - t0) / 100) / 10;
  const t = targets(o.machines, o.ttl);
  const f = figures(o, run);
  Object.assign(result, f, { targets: t, phases: run });
  process.stdout.write(`\n${renderTable(f, t, run)}\n\n`);
  for (const s of SIMULATED) process.stdout.write(`simulated: ${s}\n`);
  const soakLoad = run.soak ? `; during the soak mean ${run.soak.loadMean}, max ${run.soak.loadMax}` : "";
  process.stdout.write(`host: ${result.host.cpus} CPUs; load average (1/5/15 min) ${result.host.loadavgAtStart.join("/")} at start, ${result.host.loadavgAtEnd?.join("/")} at end${soakLoad}; commit ${result.commit}; ${result.durationSeconds} s\n`);
  if (result.logsKept) process.stdout.write(`logs kept in ${result.logsKept} (services/*.log, sim/sim-N.log)\n`);
  if (result.errors.length) process.stdout.write(`ERRORS:\n${result.errors.join("\n")}\n`);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
  try {
    log(`written to ${writeResult(RESULTS_DIR, result)}`);
  } catch (err) {
    log(`could not write results: ${String(err)}`);
  }
}

function gitCommit(): string | undefined {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim();
  } catch {
    return undefined;
  }
}

await main();


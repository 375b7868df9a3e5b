#!/usr/bin/env node
// fleet benchmark: brings up a 3-machine sandbox cluster (@fleet/launcher), measures start
// latency, batch start, failover, RSS and etcd requests per unit, prints a table and one JSON
// object (also written to bench/results/latest.json), and stops everything it started.
//
//   npm run bench                 (builds first)
//   node bench/dist/run/main.js   (after a build)
//
// Environment knobs (all optional):
//   BENCH_SINGLE=20          units for figure 1 (each way)
//   BENCH_BATCH=100          units for figure 2
//   BENCH_STATE_DIR=/var/tmp/fleet-dev/bench
//   BENCH_DEADLINE_S=570     hard deadline for the whole run (then clean up and fail)
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { startCluster, type ClusterHandle } from "@fleet/launcher";
import { Api, destroyAll } from "./api.js";
import { AGENT_TTL_S, CLUSTER, DEADLINE_MS, ETCD_POLL_MS, log, MACHINES, N_BATCH, N_SINGLE, N_WARMUP, now, ORIGINAL_FLEET, POLL_MS, RECONCILE_S, ROOT, round, sleep, STATE_DIR, t0Run, TARGETS } from "./config.js";
import { etcdDelta, etcdFigure, idleRate, pollCost, scrapeEtcd } from "./etcd-requests.js";
import { distribution, phaseBatchCli, phaseFailover, phaseSystemdFloor, startBatch } from "./phases-batch.js";
import { phaseEtcdSingles, phaseSingleApi, phaseSingleCli } from "./phases-single.js";
import { render } from "./render.js";
import { writeResults, type BenchResult } from "./result.js";
import { measureRss } from "./rss.js";
import { recordFailure } from "../common/failure.js";

function newResult(): BenchResult {
  let commit: string | undefined;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim();
  } catch {
    commit = undefined;
  }
  return {
    startedAt: new Date().toISOString(),
    host: { node: process.version, cpus: cpus().length, loadavgAtStart: loadavg().map((x) => round(x, 2)) },
    commit,
    config: { machines: MACHINES.length, agentTtlSeconds: AGENT_TTL_S, reconcileIntervalSeconds: RECONCILE_S, singleUnits: N_SINGLE, warmupUnits: N_WARMUP, batchUnits: N_BATCH, pollMs: POLL_MS, etcdPollMs: ETCD_POLL_MS },
    targets: TARGETS,
    originalFleet: ORIGINAL_FLEET,
    notes: [
      "p99 is nearest-rank: with fewer than 100 samples it is the maximum.",
      "1a/1b time from issuing the start until listUnitStates reports activeState=active (polled every 5 ms).",
      "etcd requests = grpc_server_handled_total of KV Range/Put/Txn/DeleteRange + Lease unary methods, plus LeaseKeepAlive stream messages (grpc_server_msg_received_total); keepalives are included. net = raw - idle rate x window - bench polls x measured cost per poll.",
    ],
    errors: [],
  };
}

/** Every figure, in the order the README gives, on the running cluster. */
async function measure(cluster: ClusterHandle, api: Api, result: BenchResult): Promise<void> {
  const metricsUrl = cluster.endpoints.etcdMetrics;
  if (!metricsUrl) throw new Error("the cluster's state has no etcd metrics URL");
  const machines = await api.machines();
  log(`cluster up: ${machines.length} machine(s) registered; settling 3 s`);
  await sleep(3_000);

  // Idle etcd rate with no units, and the etcd cost of one of our polls.
  const idle = await idleRate(metricsUrl, 8_000);
  log(`idle etcd rate: ${idle.perSecond}/s (unary ${idle.unaryPerSecond}/s)`);
  const poll = await pollCost(api, metricsUrl, idle);
  log(`etcd requests per listUnitStates poll: ${poll.perPoll} (${poll.polls} polls)`);
  const etcd: NonNullable<BenchResult["etcd"]> = { idleNoUnits: idle, pollCost: poll };
  result.etcd = etcd;

  result.singleApi = await phaseSingleApi(api);
  log(`1a: p50 ${result.singleApi.p50} ms, max ${result.singleApi.max} ms`);
  result.singleCli = await phaseSingleCli(api, cluster);
  log(`1b (${result.singleCli.mode}): p50 ${result.singleCli.p50} ms, max ${result.singleCli.max} ms`);

  etcd.singles = await phaseEtcdSingles(api, metricsUrl, idle, poll.perPoll);
  log(`5b: ${etcd.singles.netPerUnit} net etcd requests/unit (raw ${etcd.singles.rawPerUnit})`);

  // Figure 2 + 5a: the batch, with an etcd scrape around it.
  await sleep(2_000);
  const idleB = await idleRate(metricsUrl, 5_000);
  log(`figure 2: ${N_BATCH} units at once (idle etcd ${idleB.perSecond}/s)`);
  const c0 = api.calls.listUnitStates;
  const a = await scrapeEtcd(metricsUrl);
  const batch = await startBatch(api, N_BATCH, POLL_MS);
  await sleep(1_000); // trailing writes (state reports) land in the window
  const b = await scrapeEtcd(metricsUrl);
  const polls = api.calls.listUnitStates - c0;
  result.batch = {
    units: N_BATCH,
    allActiveMs: round(batch.allActiveMs),
    allCreateRpcsReturnedMs: round(batch.createdAt),
    firstActiveMs: round(batch.firstActiveMs),
    distribution: distribution(cluster, batch.states),
  };
  etcd.batch = etcdFigure(etcdDelta(a, b), N_BATCH, idleB, polls, poll.perPoll);
  log(`2: all ${N_BATCH} active in ${result.batch.allActiveMs} ms; ${JSON.stringify(result.batch.distribution)}; etcd net/unit ${etcd.batch.netPerUnit}`);

  log(`figure 2b: ${N_BATCH} units by one fleetctl start`);
  result.batchCli = await phaseBatchCli(api, cluster, N_BATCH);
  log(`2b: ${JSON.stringify(result.batchCli)}`);

  log(`figure 2 floor: ${N_BATCH} units started by systemctl in the machines directly`);
  result.batchSystemdFloor = await phaseSystemdFloor(cluster, N_BATCH);
  log(`2 floor: ${result.batchSystemdFloor.allStartedMs} ms`);

  // Figure 4: RSS at idle with the batch running.
  log("figure 4: idle 5 s, then RSS");
  await sleep(5_000);
  result.rss = measureRss(cluster);
  etcd.idleWithUnits = await idleRate(metricsUrl, 5_000);

  // Figure 3: failover of the machine with most units.
  result.failover = await phaseFailover(api, cluster, batch.states);
  log(`3: ${result.failover.units} units of ${result.failover.killedMachine} active elsewhere in ${result.failover.allActiveElsewhereMs} ms`);
  await destroyAll(api, batch.names);
}

function report(result: BenchResult): void {
  process.stdout.write("\n" + render(result) + "\n\n");
  if (result.singleCli?.mode === "fallback") process.stdout.write(`note: 1b used the fallback: ${result.singleCli.fallbackReason}\n`);
  for (const n of result.notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(`note: host ${result.host.cpus} CPUs, load average (1/5/15 min) ${result.host.loadavgAtStart.join("/")} at start, ${result.host.loadavgAtEnd?.join("/")} at end; commit ${result.commit}; run took ${result.durationSeconds} s\n`);
  if (result.errors.length) process.stdout.write(`ERRORS:\n${result.errors.join("\n")}\n`);
  process.stdout.write("\n" + JSON.stringify(result) + "\n");
}

async function main(): Promise<void> {
  const result = newResult();
  let cluster: ClusterHandle | undefined;
  let api: Api | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        api?.close();
      } catch {
        /* ignore */
      }
      if (cluster) {
        log("stopping the cluster");
        const rep = await cluster.stop({ removeState: true }).catch((e: unknown) => ({ stopped: [] as string[], errors: [String(e)] }));
        if (rep.errors.length) log(`stop errors: ${rep.errors.join("; ")}`);
        else log(`stopped: ${rep.stopped.join(", ")}`);
      }
    })();
    return stopping;
  };
  const onSignal = (sig: NodeJS.Signals) => {
    log(`got ${sig}: cleaning up`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const watchdog = setTimeout(() => {
    log(`deadline of ${DEADLINE_MS / 1000} s passed: cleaning up`);
    result.errors.push("deadline passed");
    void stopAll().finally(() => {
      writeResults(result);
      process.exit(2);
    });
  }, DEADLINE_MS);

  try {
    log(`starting cluster ${CLUSTER} (${MACHINES.join(", ")}) in ${STATE_DIR}`);
    const tc = now();
    cluster = await startCluster({
      machines: MACHINES.map((name) => ({ name })),
      agentTtlSeconds: AGENT_TTL_S,
      reconcileIntervalSeconds: RECONCILE_S,
      stateDir: STATE_DIR,
      cluster: CLUSTER,
      log: (m) => log(`launcher: ${m}`),
    });
    result.clusterStartMs = round(now() - tc, 0);
    api = new Api(cluster.endpoints.api ?? "");
    await measure(cluster, api, result);
  } catch (e) {
    recordFailure(result, e, log);
  } finally {
    clearTimeout(watchdog);
    await stopAll();
  }
  result.finishedAt = new Date().toISOString();
  result.durationSeconds = round((Date.now() - t0Run) / 1000, 1);
  result.host.loadavgAtEnd = loadavg().map((x) => round(x, 2));
  report(result);
  writeResults(result);
}

await main();

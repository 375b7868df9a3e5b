// Figures 1a, 1b and 5b: single units started one after another.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterHandle } from "@fleet/launcher";
import { destroyAll, isActive, pollStates, unitFileText, unitName, type Api } from "./api.js";
import { ETCD_POLL_MS, log, N_SINGLE, N_WARMUP, now, round, sleep } from "./config.js";
import { etcdDelta, etcdFigure, scrapeEtcd, type EtcdFigure, type IdleRate } from "./etcd-requests.js";
import { FALLBACK_CLIENT, fleetctlMain, runFleetctl, runProcess, type ProcessResult } from "./processes.js";
import { stats, type Stats } from "./stats.js";

export type SingleApi = Stats & { warmupMs: (number | null)[]; createRpc: Stats; samplesMs: (number | null)[] };

export async function phaseSingleApi(api: Api): Promise<SingleApi> {
  log(`figure 1a: ${N_SINGLE} single units via the API (+${N_WARMUP} warm-up)`);
  const samples: number[] = [];
  const createMs: number[] = [];
  const warmup: (number | null)[] = [];
  const names: string[] = [];
  for (let i = 0; i < N_SINGLE + N_WARMUP; i++) {
    const name = unitName("one");
    names.push(name);
    const t = now();
    await api.create(name);
    const tc = now() - t;
    await pollStates(api, [name], (s) => s.some(isActive), { what: `${name} active` });
    const ms = now() - t;
    if (i < N_WARMUP) warmup.push(round(ms));
    else {
      samples.push(ms);
      createMs.push(tc);
    }
  }
  await destroyAll(api, names);
  return { ...stats(samples), warmupMs: warmup, createRpc: stats(createMs), samplesMs: samples.map((x) => round(x)) };
}

export type SingleCli = Stats & {
  mode: "fleetctl" | "fallback";
  launcher: string | undefined;
  fallbackReason: string | undefined;
  processExit: Stats;
  listMachinesProcess: Stats;
  bareNodeProcess: Stats;
  nodeExtraCaCertsSet: boolean;
  failures: string[];
  samplesMs: (number | null)[];
};

/** Probes fleetctl with one real start (not counted): the reason it cannot be used, if any. */
async function fleetctlUnusable(api: Api, main: string | undefined, dir: string, env: NodeJS.ProcessEnv, names: string[]): Promise<string | undefined> {
  if (!main) return "fleetctl not built (no clients/fleetctl/dist/main.js)";
  const name = unitName("cli-probe");
  names.push(name);
  const file = join(dir, name);
  writeFileSync(file, unitFileText(name));
  const r = await runFleetctl(main, ["start", file], env);
  const ok = r.code === 0 && (await pollStates(api, [name], (s) => s.some(isActive), { timeoutMs: 10_000 }).then(() => true, () => false));
  return ok ? undefined : `fleetctl start failed (exit ${r.code}): ${(r.err || r.out).trim().split("\n").slice(-2).join(" | ").slice(0, 300)}`;
}

/** p50 material: n runs of a process, the durations of those that exited 0. */
async function timeRuns(n: number, run: () => Promise<ProcessResult>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    const r = await run();
    if (r.code === 0) times.push(now() - t);
  }
  return times;
}

export async function phaseSingleCli(api: Api, cluster: ClusterHandle): Promise<SingleCli> {
  const main = fleetctlMain();
  const dir = mkdtempSync(join(tmpdir(), "fleet-bench-units-"));
  const env = { ...process.env, ...cluster.env };
  const names: string[] = [];
  try {
    const fallbackReason = await fleetctlUnusable(api, main, dir, env, names);
    const mode = fallbackReason === undefined && main ? "fleetctl" : "fallback";
    if (mode === "fallback") log(`figure 1b: ${fallbackReason}; falling back to a node process creating the unit via @fleet/wire`);
    else log(`figure 1b: ${N_SINGLE} single units via fleetctl start (${main})`);
    const samples: number[] = [];
    const exitMs: number[] = [];
    const failures: string[] = [];
    for (let i = 0; i < N_SINGLE + 1; i++) {
      const name = unitName("cli");
      names.push(name);
      const file = join(dir, name);
      writeFileSync(file, unitFileText(name));
      const t = now();
      const r = mode === "fleetctl" && main ? await runFleetctl(main, ["start", file], env) : await runProcess(process.execPath, [FALLBACK_CLIENT, name, cluster.endpoints.api ?? ""], env, 30_000);
      const te = now() - t;
      if (r.code !== 0) {
        failures.push(`${name}: exit ${r.code}: ${(r.err || r.out).trim().slice(0, 200)}`);
        if (failures.length >= 3) break;
        continue;
      }
      await pollStates(api, [name], (s) => s.some(isActive), { what: `${name} active` });
      const ms = now() - t;
      if (i === 0) continue; // first one warms up the page cache for node + modules
      samples.push(ms);
      exitMs.push(te);
    }
    // Baseline: what a fleetctl process costs without any start (node start-up + one RPC).
    const baseline = mode === "fleetctl" && main ? await timeRuns(5, () => runFleetctl(main, ["list-machines"], env)) : [];
    // And what any Node process costs here before it runs a line.
    const nodeStart = await timeRuns(5, () => runProcess(process.execPath, ["-e", "0"], env, 30_000));
    return {
      mode,
      launcher: main,
      fallbackReason,
      ...stats(samples),
      processExit: stats(exitMs),
      listMachinesProcess: stats(baseline),
      bareNodeProcess: stats(nodeStart),
      nodeExtraCaCertsSet: Boolean(process.env.NODE_EXTRA_CA_CERTS),
      failures,
      samplesMs: samples.map((x) => round(x)),
    };
  } finally {
    await destroyAll(api, names);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function phaseEtcdSingles(api: Api, metricsUrl: string, idle: IdleRate, perPoll: number): Promise<EtcdFigure> {
  log(`figure 5b: etcd requests for ${N_SINGLE} single units started one after another`);
  const names: string[] = [];
  const c0 = api.calls.listUnitStates;
  const a = await scrapeEtcd(metricsUrl);
  for (let i = 0; i < N_SINGLE; i++) {
    const name = unitName("etcd");
    names.push(name);
    await api.create(name);
    await pollStates(api, [name], (s) => s.some(isActive), { intervalMs: ETCD_POLL_MS, what: `${name} active` });
  }
  await sleep(1_000); // trailing writes of the last start (state reports) land in the window
  const b = await scrapeEtcd(metricsUrl);
  const polls = api.calls.listUnitStates - c0;
  await destroyAll(api, names);
  return etcdFigure(etcdDelta(a, b), N_SINGLE, idle, polls, perPoll);
}

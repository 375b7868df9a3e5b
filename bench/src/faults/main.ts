#!/usr/bin/env node
// fleet fault benchmark: a 3-machine sandbox cluster (@fleet/launcher, agent_ttl 5 s, two
// gateways), 60 units; then
//   6  the whole control plane (etcd, NATS, every gateway, every engine, the api) SIGKILLed for
//      3 x agent_ttl and started again: units restarted / duplicated (target 0 / 0);
//   7  one machine partitioned (iptables by its cgroup, as fleet-dev partition): time until its
//      units are active elsewhere (target <= agent_ttl + 1 s), and for an AtMostOnce unit on a
//      partitioned machine: time until active elsewhere (target <= 2 x agent_ttl + 2 s) and how
//      often it was seen active on two machines (target never; sampled every ~100-200 ms).
// Prints a table and one JSON line (also bench/results/faults.json); stops what it started on
// success, failure, signals and its own deadline.
//
//   npm run bench                    (builds, runs the scheduler bench, run and this)
//   node bench/dist/faults/main.js   (after a build)
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster, type ClusterHandle } from "@fleet/launcher";
import { outage, partition, type Outage, type Partition } from "./figures.js";
import { elapsedMs, fleetctl, log, ROOT, TTL_S, UNITS } from "./observe.js";
import { recordFailure } from "../common/failure.js";

const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_S ?? 570) * 1000;
const STATE_DIR = process.env.BENCH_FAULTS_STATE_DIR ?? "/var/tmp/fleet-dev/bench-faults";
const TARGETS = { restarted: 0, duplicated: 0, partitionMs: TTL_S * 1000 + 1000, atMostOnceMs: 2 * TTL_S * 1000 + 2000, atMostOnceTwice: 0 };

interface FaultsResult {
  startedAt: string;
  host: { cpus: number; loadavgAtStart: number[]; loadavgAtEnd?: number[] };
  targets: typeof TARGETS;
  errors: string[];
  outage?: Outage;
  partition?: Partition;
  durationSeconds?: number;
}

function render(r: FaultsResult): string {
  const rows = [
    ["figure", "measured", "target"],
    [`6  control-plane outage ${r.outage?.outageMs ?? "?"} ms: units restarted / duplicated (of ${r.outage?.units ?? "?"})`, r.outage ? `${r.outage.restarted} / ${r.outage.duplicated}` : "n/a", "0 / 0"],
    ["6    fleet reports every unit active again after the restart", r.outage ? `${r.outage.fleetRecoveredMs} ms` : "n/a", ""],
    [`7  partition of ${r.partition?.machine ?? "?"} -> its ${r.partition?.units ?? "?"} units active elsewhere`, r.partition ? `${r.partition.allActiveElsewhereMs} ms` : "n/a", `<= ${TARGETS.partitionMs} ms`],
    ["7  AtMostOnce unit on it -> active elsewhere", r.partition ? `${r.partition.atMostOnce.activeElsewhereMs} ms` : "n/a", `<= ${TARGETS.atMostOnceMs} ms`],
    [`7    seen active on two machines (${r.partition?.atMostOnce.samples ?? 0} samples, longest gap ${r.partition?.atMostOnce.longestSampleGapMs ?? "?"} ms)`, r.partition ? String(r.partition.atMostOnce.seenTwice) : "n/a", "0"],
  ];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  return rows.map((row) => row.map((c, i) => String(c).padEnd(w[i]!)).join("  ")).join("\n");
}

/** The units of the figures: UNITS plain services and one AtMostOnce service, by fleetctl start. */
async function startUnits(env: Record<string, string>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "fleet-bench-faults-"));
  const body = "[Service]\nExecStart=/bin/sleep infinity\n";
  const files = Array.from({ length: UNITS }, (_, i) => {
    const p = join(dir, `bench-f-${String(i).padStart(3, "0")}.service`);
    writeFileSync(p, body);
    return p;
  });
  const once = join(dir, "bench-once.service");
  writeFileSync(once, `${body}\n[X-Fleet]\nAtMostOnce=true\n`);
  const r = await fleetctl(env, "start", ...files, once);
  if (r.code !== 0) throw new Error(`fleetctl start failed: ${r.stderr}`);
}

async function main(): Promise<void> {
  const result: FaultsResult = { startedAt: new Date().toISOString(), host: { cpus: cpus().length, loadavgAtStart: loadavg() }, targets: TARGETS, errors: [] };
  let cluster: ClusterHandle | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      if (!cluster) return;
      for (const m of cluster.state.machines) await cluster.heal(m.name).catch(() => undefined);
      await cluster.stop({ removeState: true }).then(
        () => undefined,
        (e: unknown) => log(`stop: ${String(e)}`),
      );
    })());
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void stopAll().finally(() => process.exit(130)));
  const watchdog = setTimeout(() => {
    result.errors.push("deadline passed");
    void stopAll().finally(() => process.exit(2));
  }, DEADLINE_MS);
  try {
    cluster = await startCluster({ machines: [{ name: "m1" }, { name: "m2" }, { name: "m3" }], agentTtlSeconds: TTL_S, reconcileIntervalSeconds: 2, gateways: 2, stateDir: STATE_DIR, cluster: "faults", log: (m) => log(`launcher: ${m}`) });
    const env = cluster.env;
    await startUnits(env);
    result.outage = await outage(cluster, env);
    log(`6: ${JSON.stringify(result.outage)}`);
    result.partition = await partition(cluster);
    log(`7: ${JSON.stringify(result.partition)}`);
  } catch (e) {
    recordFailure(result, e, log);
  } finally {
    clearTimeout(watchdog);
    await stopAll();
  }
  result.durationSeconds = Math.round(elapsedMs() / 100) / 10;
  result.host.loadavgAtEnd = loadavg();
  process.stdout.write(`\n${render(result)}\n\n`);
  if (result.errors.length) process.stdout.write(`ERRORS:\n${result.errors.join("\n")}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(ROOT, "bench", "results", "faults.json"), `${JSON.stringify(result, null, 2)}\n`);
}

await main();

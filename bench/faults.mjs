#!/usr/bin/env node
// fleet fault benchmark: a 3-machine sandbox cluster (testkit, agent_ttl 5 s, two gateways),
// 60 units; then
//   6  the whole control plane (etcd, NATS, every gateway, every engine, the api) SIGKILLed for
//      3 x agent_ttl and started again: units restarted / duplicated (target 0 / 0);
//   7  one machine partitioned (iptables by its cgroup, as fleet-dev partition): time until its
//      units are active elsewhere (target <= agent_ttl + 1 s), and for an AtMostOnce unit on a
//      partitioned machine: time until active elsewhere (target <= 2 x agent_ttl + 2 s) and how
//      often it was seen active on two machines (target never; sampled every ~100-200 ms).
// Prints a table and one JSON line (also bench/results/faults.json); stops what it started on
// success, failure, signals and its own deadline.
//
//   npm run bench            (builds, runs scheduler.mjs, run.mjs and this)
//   node bench/faults.mjs    (after a build)
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster } from "@fleet/launcher";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const FLEETCTL = join(ROOT, "clients/fleetctl/bin/fleetctl");
const TTL_S = 5;
const UNITS = Number(process.env.BENCH_FAULT_UNITS ?? 60);
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_S ?? 570) * 1000;
const STATE_DIR = process.env.BENCH_FAULTS_STATE_DIR ?? "/var/tmp/fleet-dev/bench-faults";
const TARGETS = { restarted: 0, duplicated: 0, partitionMs: TTL_S * 1000 + 1000, atMostOnceMs: 2 * TTL_S * 1000 + 2000, atMostOnceTwice: 0 };

const t0 = Date.now();
const log = (m) => process.stderr.write(`[faults +${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function fleetctl(env, ...args) {
  return new Promise((resolve) => {
    execFile(FLEETCTL, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

/** unit -> [{machine, pid}] of the units matching glob that systemd runs, asked in every machine. */
async function running(cluster, glob) {
  const out = new Map();
  await Promise.all(
    cluster.state.machines.map(async (m) => {
      const r = await cluster.exec(m.name, ["systemctl", "show", "--property=Id,MainPID,ActiveState", glob], { timeoutMs: 20_000 });
      for (const block of r.stdout.split("\n\n")) {
        const p = Object.fromEntries(block.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
        if (p.ActiveState === "active" && p.Id) out.set(p.Id, [...(out.get(p.Id) ?? []), { machine: m.name, pid: p.MainPID }]);
      }
    }),
  );
  return out;
}

async function until(what, fn, timeoutMs = 60_000, intervalMs = 200) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

const allOnce = (cluster, glob, n) =>
  until(`${n} ${glob} active once`, async () => {
    const r = await running(cluster, glob);
    return r.size === n && [...r.values()].every((w) => w.length === 1) ? r : undefined;
  });

/** Figure 6: everything but the machines down for 3 x agent_ttl. */
async function outage(cluster, env) {
  const before = await allOnce(cluster, "bench-f-*.service", UNITS);
  const components = cluster.state.components.map((c) => c.name);
  log(`figure 6: SIGKILL ${components.join(", ")} for ${3 * TTL_S} s`);
  for (const c of components) await cluster.killComponent(c, "SIGKILL");
  const dup = new Set();
  const end = Date.now() + 3 * TTL_S * 1000;
  while (Date.now() < end) {
    for (const [u, w] of await running(cluster, "bench-f-*.service")) if (w.length > 1) dup.add(u);
    await sleep(500);
  }
  const tBack = Date.now();
  for (const c of ["etcd", "etcd-1", "etcd-2", "etcd-3", "nats"].filter((c) => components.includes(c))) await cluster.restartComponent(c);
  await Promise.all(components.filter((c) => !c.startsWith("etcd") && c !== "nats").map((c) => cluster.restartComponent(c)));
  await until("fleet to see every unit active", async () => {
    const r = await fleetctl(env, "list-units", "--no-legend", "--fields=unit,active");
    const active = r.stdout.split("\n").filter((l) => {
      const [unit = "", state = ""] = l.trim().split(/\s+/);
      return unit.startsWith("bench-f-") && state === "active";
    });
    return r.code === 0 && active.length === UNITS;
  });
  const recoveredMs = Date.now() - tBack;
  // Past the engine's grace period: anything that was going to move has moved.
  await sleep(TTL_S * 1000 + 2000);
  const after = await running(cluster, "bench-f-*.service");
  let restarted = 0;
  for (const [u, [w]] of before) {
    const now = after.get(u) ?? [];
    if (now.length > 1) dup.add(u);
    if (now.length !== 1 || now[0].machine !== w.machine || now[0].pid !== w.pid) restarted++;
  }
  return { units: UNITS, outageMs: 3 * TTL_S * 1000, restarted, duplicated: dup.size, fleetRecoveredMs: recoveredMs };
}

/** Figure 7: one machine partitioned; its plain units move, an AtMostOnce unit moves without ever running twice. */
async function partition(cluster) {
  const where = await allOnce(cluster, "bench-f-*.service", UNITS);
  const once = await allOnce(cluster, "bench-once.service", 1);
  const victim = once.get("bench-once.service")[0].machine;
  const mine = [...where].filter(([, [w]]) => w.machine === victim).map(([u]) => u);
  log(`figure 7: partition ${victim} (${mine.length} units and bench-once.service)`);
  let stop = false;
  let twice = 0;
  let samples = 0;
  let longestGapMs = 0;
  let onceBackMs;
  const t = Date.now();
  const sampler = (async () => {
    let last = Date.now();
    while (!stop) {
      const states = await Promise.all(cluster.state.machines.map(async (m) => [m.name, (await cluster.exec(m.name, ["systemctl", "is-active", "bench-once.service"])).stdout.trim()]));
      const now = Date.now();
      samples++;
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      const active = states.filter(([, s]) => s === "active").map(([m]) => m);
      if (active.length > 1) twice++;
      if (onceBackMs === undefined && active.length === 1 && active[0] !== victim) onceBackMs = now - t;
      await sleep(20);
    }
  })();
  await cluster.partition(victim);
  let movedMs;
  try {
    await until(
      `${victim}'s units active elsewhere`,
      async () => {
        const r = await running(cluster, "bench-f-*.service");
        return mine.every((u) => (r.get(u) ?? []).some((w) => w.machine !== victim));
      },
      60_000,
      100,
    );
    movedMs = Date.now() - t;
    await until("bench-once.service active elsewhere", () => onceBackMs !== undefined, 60_000, 50);
  } finally {
    await cluster.heal(victim);
  }
  await cluster.waitRegistered();
  await sleep(TTL_S * 1000);
  stop = true;
  await sampler;
  return { machine: victim, units: mine.length, allActiveElsewhereMs: movedMs, atMostOnce: { activeElsewhereMs: onceBackMs, seenTwice: twice, samples, longestSampleGapMs: longestGapMs } };
}

function render(r) {
  const rows = [
    ["figure", "measured", "target"],
    [`6  control-plane outage ${r.outage?.outageMs ?? "?"} ms: units restarted / duplicated (of ${r.outage?.units ?? "?"})`, r.outage ? `${r.outage.restarted} / ${r.outage.duplicated}` : "n/a", "0 / 0"],
    ["6    fleet reports every unit active again after the restart", r.outage ? `${r.outage.fleetRecoveredMs} ms` : "n/a", ""],
    [`7  partition of ${r.partition?.machine ?? "?"} -> its ${r.partition?.units ?? "?"} units active elsewhere`, r.partition ? `${r.partition.allActiveElsewhereMs} ms` : "n/a", `<= ${TARGETS.partitionMs} ms`],
    ["7  AtMostOnce unit on it -> active elsewhere", r.partition ? `${r.partition.atMostOnce.activeElsewhereMs} ms` : "n/a", `<= ${TARGETS.atMostOnceMs} ms`],
    [`7    seen active on two machines (${r.partition?.atMostOnce.samples ?? 0} samples, longest gap ${r.partition?.atMostOnce.longestSampleGapMs ?? "?"} ms)`, r.partition ? String(r.partition.atMostOnce.seenTwice) : "n/a", "0"],
  ];
  const w = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  return rows.map((row) => row.map((c, i) => String(c).padEnd(w[i])).join("  ")).join("\n");
}

async function main() {
  const result = { startedAt: new Date().toISOString(), host: { cpus: cpus().length, loadavgAtStart: loadavg() }, targets: TARGETS, errors: [] };
  let cluster;
  let stopping;
  const stopAll = () =>
    (stopping ??= (async () => {
      if (!cluster) return;
      for (const m of cluster.state.machines) await cluster.heal(m.name).catch(() => undefined);
      await cluster.stop({ removeState: true }).catch((e) => log(`stop: ${e}`));
    })());
  for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => void stopAll().finally(() => process.exit(130)));
  const watchdog = setTimeout(() => {
    result.errors.push("deadline passed");
    void stopAll().finally(() => process.exit(2));
  }, DEADLINE_MS);
  try {
    cluster = await startCluster({ machines: [{ name: "m1" }, { name: "m2" }, { name: "m3" }], agentTtlSeconds: TTL_S, reconcileIntervalSeconds: 2, gateways: 2, stateDir: STATE_DIR, cluster: "faults", log: (m) => log(`testkit: ${m}`) });
    const env = cluster.env;
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
    result.outage = await outage(cluster, env);
    log(`6: ${JSON.stringify(result.outage)}`);
    result.partition = await partition(cluster);
    log(`7: ${JSON.stringify(result.partition)}`);
  } catch (e) {
    result.errors.push(String(e?.stack ?? e));
    log(`FAILED: ${e?.stack ?? e}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    await stopAll();
  }
  result.durationSeconds = Math.round((Date.now() - t0) / 100) / 10;
  result.host.loadavgAtEnd = loadavg();
  process.stdout.write(`\n${render(result)}\n\n`);
  if (result.errors.length) process.stdout.write(`ERRORS:\n${result.errors.join("\n")}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  mkdirSync(join(HERE, "results"), { recursive: true });
  writeFileSync(join(HERE, "results", "faults.json"), `${JSON.stringify(result, null, 2)}\n`);
}

await main();

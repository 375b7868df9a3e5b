#!/usr/bin/env node
// fleet benchmark: brings up a 3-machine sandbox cluster (testkit), measures start latency,
// batch start, failover, RSS and etcd requests per unit, prints a table and one JSON object
// (also written to bench/results/latest.json), and stops everything it started.
//
//   npm run bench            (builds first)
//   node bench/run.mjs       (after a build)
//
// Environment knobs (all optional):
//   BENCH_SINGLE=20          units for figure 1 (each way)
//   BENCH_BATCH=100          units for figure 2
//   BENCH_STATE_DIR=/var/tmp/fleet-dev/bench
//   BENCH_DEADLINE_S=570     hard deadline for the whole run (then clean up and fail)
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { startCluster } from "@fleet/launcher";
import { connect, unary, FleetServiceClient, TargetState } from "@fleet/wire";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const RESULTS_DIR = join(HERE, "results");

const N_SINGLE = Number(process.env.BENCH_SINGLE ?? 20);
const N_BATCH = Number(process.env.BENCH_BATCH ?? 100);
const N_WARMUP = 2;
const AGENT_TTL_S = 5;
const RECONCILE_S = 5;
const CLUSTER = "bench";
const STATE_DIR = process.env.BENCH_STATE_DIR ?? "/var/tmp/fleet-dev/bench";
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_S ?? 570) * 1000;
const MACHINES = ["m1", "m2", "m3"];
const POLL_MS = 5;
/** Polling while counting etcd requests: slower, and its own cost is calibrated and subtracted. */
const ETCD_POLL_MS = 50;

const TARGETS = {
  singleP50Ms: 250,
  singleP99Ms: 1000,
  batchMs: 1500,
  failoverMs: (AGENT_TTL_S + 1) * 1000,
  agentRssMB: 60,
  etcdPerUnit: 5,
};
const ORIGINAL_FLEET = {
  singleMs: "~3300",
  batchMs: "3000-8000",
  etcdPerUnit: "~50-64",
};

const t0Run = Date.now();
const log = (msg) => process.stderr.write(`[bench +${((Date.now() - t0Run) / 1000).toFixed(1)}s] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const round = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

// ---------------------------------------------------------------------------------------
// Statistics

/** Nearest-rank percentile (p in 0..100) of the values. */
function percentile(values, p) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1];
}
function stats(values) {
  if (values.length === 0) return { n: 0 };
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    min: round(s[0]),
    p50: round(percentile(s, 50)),
    p90: round(percentile(s, 90)),
    p99: round(percentile(s, 99)),
    max: round(s[s.length - 1]),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
    p99IsMax: s.length < 100,
  };
}

// ---------------------------------------------------------------------------------------
// Units and the API

let seq = 0;
const RUN_ID = Math.random().toString(36).slice(2, 7);
function unitName(kind) {
  seq += 1;
  return `bench-${kind}-${RUN_ID}-${seq}.service`;
}
function unitOptions(name) {
  return [
    { section: "Unit", name: "Description", value: `fleet bench ${name}` },
    { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
  ];
}
function unitFileText(name) {
  return `[Unit]\nDescription=fleet bench ${name}\n\n[Service]\nExecStart=/bin/sleep infinity\n`;
}

class Api {
  constructor(endpoint) {
    this.client = connect(FleetServiceClient, endpoint);
    this.calls = { listUnitStates: 0 };
  }
  create(name) {
    const c = this.client;
    return unary(c.createUnit.bind(c), { unit: { name, options: unitOptions(name), hash: "", desiredState: TargetState.TARGET_STATE_LAUNCHED } });
  }
  destroy(name) {
    const c = this.client;
    return unary(c.destroyUnit.bind(c), { name });
  }
  async states(unitNames = []) {
    const c = this.client;
    this.calls.listUnitStates += 1;
    return (await unary(c.listUnitStates.bind(c), { unitNames, machineId: "" }, { deadlineMs: 5_000 })).states;
  }
  async units() {
    const c = this.client;
    return (await unary(c.listUnits.bind(c), {})).units;
  }
  async machines() {
    const c = this.client;
    return (await unary(c.listMachines.bind(c), {})).machines;
  }
  close() {
    this.client.close();
  }
}

/** Polls listUnitStates until pred(states) is truthy; returns that value. */
async function pollStates(api, names, pred, { intervalMs = POLL_MS, timeoutMs = 30_000, what = "states" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const states = await api.states(names);
      const v = pred(states);
      if (v) return v;
      last = states;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 400);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${detail}`);
    }
    if (intervalMs > 0) await sleep(intervalMs);
  }
}

const isActive = (s) => s.activeState === "active";

/** Destroys the units and waits until no unit state for them is left. */
async function destroyAll(api, names, timeoutMs = 60_000) {
  if (names.length === 0) return;
  const t = now();
  const errors = [];
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(
      names.slice(i, i + 25).map((n) =>
        api.destroy(n).catch((e) => {
          if (!/not.?found/i.test(String(e?.message))) errors.push(`${n}: ${e.message}`);
        }),
      ),
    );
  }
  if (errors.length) log(`destroy errors: ${errors.slice(0, 3).join("; ")}`);
  const set = new Set(names);
  await pollStates(api, [], (states) => !states.some((s) => set.has(s.name)), { intervalMs: 100, timeoutMs, what: `${names.length} destroyed units to disappear` }).catch((e) =>
    log(`warning: ${e.message}`),
  );
  log(`destroyed ${names.length} unit(s) in ${Math.round(now() - t)} ms`);
}

// ---------------------------------------------------------------------------------------
// etcd metrics

async function scrapeEtcd(metricsUrl) {
  const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  const handled = {}; // "service/method" -> count (all codes)
  const received = {}; // "service/method" -> stream messages received
  for (const line of text.split("\n")) {
    let m = /^grpc_server_handled_total\{(.*)\}\s+(\S+)$/.exec(line);
    const target = m ? handled : (m = /^grpc_server_msg_received_total\{(.*)\}\s+(\S+)$/.exec(line)) ? received : undefined;
    if (!target || !m) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key = `${labels.grpc_service}/${labels.grpc_method}`;
    target[key] = (target[key] ?? 0) + Number(m[2]);
  }
  return { at: now(), handled, received, hasReceived: text.includes("grpc_server_msg_received_total") };
}

const KV_METHODS = ["Range", "Put", "Txn", "DeleteRange"];
const LEASE_UNARY = ["LeaseGrant", "LeaseRevoke", "LeaseTimeToLive", "LeaseLeases"];

/** Counts between two scrapes: unary KV + Lease requests, keepalive messages, watch messages. */
function etcdDelta(a, b) {
  const d = (map, key) => (b[map][key] ?? 0) - (a[map][key] ?? 0);
  const byMethod = {};
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

/** Idle etcd request rate (requests/s) over `ms`, nothing of ours running. */
async function idleRate(metricsUrl, ms) {
  const a = await scrapeEtcd(metricsUrl);
  await sleep(ms);
  const b = await scrapeEtcd(metricsUrl);
  const d = etcdDelta(a, b);
  return { seconds: round(d.seconds, 2), perSecond: round(d.total / d.seconds, 2), unaryPerSecond: round(d.unary / d.seconds, 2), delta: d };
}

/** etcd requests caused by one listUnitStates poll (idle cluster), so it can be subtracted. */
async function pollCost(api, metricsUrl, idle, ms = 3_000) {
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
  return { polls, perPoll: round(Math.max(0, net) / polls, 3), raw: d.total, seconds: round(d.seconds, 2) };
}

function etcdFigure(delta, units, idle, polls, perPoll) {
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

// ---------------------------------------------------------------------------------------
// RSS

function rssKB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Host PIDs of the machine's fleet-agent.service: from the cgroup tree, else /proc/*\/cgroup. */
function agentPids(machine) {
  const pids = new Set();
  const walk = (dir, depth) => {
    if (depth > 8) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name === "fleet-agent.service") {
        try {
          for (const l of readFileSync(join(p, "cgroup.procs"), "utf8").split("\n")) if (l.trim()) pids.add(Number(l));
        } catch {
          /* gone */
        }
      } else walk(p, depth + 1);
    }
  };
  for (const h of ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup"]) {
    walk(join(h, machine.cgroupName), 0);
    if (pids.size) return { pids: [...pids], via: `${h}/${machine.cgroupName}/**/fleet-agent.service/cgroup.procs` };
  }
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cg = readFileSync(`/proc/${d}/cgroup`, "utf8");
      if (cg.split("\n").some((l) => l.includes(`/${machine.cgroupName}/`) && l.includes("fleet-agent.service"))) pids.add(Number(d));
    } catch {
      /* gone */
    }
  }
  return { pids: [...pids], via: "/proc/*/cgroup" };
}

function measureRss(cluster) {
  const rows = [];
  for (const c of cluster.state.components) {
    const kb = rssKB(c.pid);
    rows.push({ process: c.name, pids: [c.pid], rssMB: kb === undefined ? null : round(kb / 1024) });
  }
  for (const m of cluster.state.machines) {
    const { pids, via } = agentPids(m);
    const kbs = pids.map(rssKB).filter((x) => x !== undefined);
    rows.push({ process: `agent ${m.name}`, pids, rssMB: kbs.length ? round(kbs.reduce((a, b) => a + b, 0) / 1024) : null, via });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------
// fleetctl

/** The launcher `npx fleetctl` runs (bin/fleetctl), else the bundle through node. */
function fleetctlMain() {
  for (const p of ["clients/fleetctl/bin/fleetctl", "clients/fleetctl/bin/fleetctl.cjs", "clients/fleetctl/dist/main.js"]) if (existsSync(join(ROOT, p))) return join(ROOT, p);
  return undefined;
}

/** Runs fleetctl as a user's shell would: the launcher directly, a .js/.cjs file through node. */
function runFleetctl(main, args, env) {
  return /\.c?js$/.test(main) ? runProcess(process.execPath, [main, ...args], env, 30_000) : runProcess(main, args, env, 30_000);
}

function runProcess(cmd, args, env, timeoutMs = 30_000) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (err += b));
    child.once("error", (e) => resolve({ code: -1, out, err: err + String(e) }));
    child.once("close", (code, sig) => resolve({ code: code ?? (sig ? 137 : 1), out, err }));
  });
}

/** Fallback when fleetctl does not work: a fresh node process creating the unit via @fleet/wire. */
const FALLBACK_SCRIPT = `
import { connect, unary, FleetServiceClient, TargetState } from "@fleet/wire";
const [name, endpoint] = process.argv.slice(1);
const c = connect(FleetServiceClient, endpoint);
const options = [{ section: "Unit", name: "Description", value: "fleet bench " + name }, { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
await unary(c.createUnit.bind(c), { unit: { name, options, hash: "", desiredState: TargetState.TARGET_STATE_LAUNCHED } });
for (;;) {
  const r = await unary(c.getUnit.bind(c), { name });
  if (r.unit && r.unit.currentState === TargetState.TARGET_STATE_LAUNCHED) break;
  await new Promise((res) => setTimeout(res, 50));
}
c.close();
`;

// ---------------------------------------------------------------------------------------
// Phases

/**
 * Figure 2's floor: the same number of units, the same unit file, started by systemctl in the
 * machines directly, all machines at once, no fleet involved. Times come from the host clock the
 * machines share: first systemctl start issued -> last one returned (every job done).
 */
async function phaseSystemdFloor(cluster, n) {
  const machines = cluster.state.machines.map((m) => m.name);
  const per = machines.map((_, i) => Math.floor(n / machines.length) + (i < n % machines.length ? 1 : 0));
  const units = (count) => Array.from({ length: count }, (_, i) => `bench-floor-${i}.service`).join(" ");
  const script = (count) =>
    [
      `for u in ${units(count)}; do printf '[Unit]\\nDescription=fleet bench floor\\n\\n[Service]\\nExecStart=/bin/sleep infinity\\n' > /run/systemd/system/$u; done`,
      "systemctl daemon-reload",
      "s=$(date +%s%N)",
      `systemctl start ${units(count)}`,
      "e=$(date +%s%N)",
      "echo $s $e",
    ].join(" && ");
  const cleanup = (count) => `systemctl stop ${units(count)}; for u in ${units(count)}; do rm -f /run/systemd/system/$u; done; systemctl daemon-reload`;
  const runs = await Promise.all(machines.map((m, i) => cluster.exec(m, ["sh", "-c", script(per[i])], { timeoutMs: 60_000 })));
  await Promise.all(machines.map((m, i) => cluster.exec(m, ["sh", "-c", cleanup(per[i])], { timeoutMs: 60_000 })));
  const spans = runs.map((r) => r.stdout.trim().split(/\s+/).map(Number));
  if (spans.some((x) => x.length !== 2 || x.some((v) => !Number.isFinite(v)))) throw new Error(`systemd floor: unexpected output ${JSON.stringify(runs.map((r) => r.stdout + r.stderr))}`);
  const start = Math.min(...spans.map((x) => x[0]));
  const end = Math.max(...spans.map((x) => x[1]));
  return { units: n, perMachine: Object.fromEntries(machines.map((m, i) => [m, per[i]])), allStartedMs: round((end - start) / 1e6), perMachineMs: Object.fromEntries(machines.map((m, i) => [m, round((spans[i][1] - spans[i][0]) / 1e6)])) };
}

async function phaseSingleApi(api) {
  log(`figure 1a: ${N_SINGLE} single units via the API (+${N_WARMUP} warm-up)`);
  const samples = [];
  const createMs = [];
  const warmup = [];
  const names = [];
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

async function phaseSingleCli(api, cluster) {
  const main = fleetctlMain();
  const dir = mkdtempSync(join(tmpdir(), "fleet-bench-units-"));
  const env = { ...process.env, ...cluster.env };
  const names = [];
  let mode = "fleetctl";
  let fallbackReason;
  try {
    if (!main) {
      mode = "fallback";
      fallbackReason = "fleetctl not built (no clients/fleetctl/dist/main.js)";
    } else {
      // Probe once: a real start of one unit (not counted).
      const name = unitName("cli-probe");
      names.push(name);
      const file = join(dir, name);
      writeFileSync(file, unitFileText(name));
      const r = await runFleetctl(main, ["start", file], env);
      const ok = r.code === 0 && (await pollStates(api, [name], (s) => s.some(isActive), { timeoutMs: 10_000 }).then(() => true, () => false));
      if (!ok) {
        mode = "fallback";
        fallbackReason = `fleetctl start failed (exit ${r.code}): ${(r.err || r.out).trim().split("\n").slice(-2).join(" | ").slice(0, 300)}`;
      }
    }
    if (mode === "fallback") log(`figure 1b: ${fallbackReason}; falling back to a node process creating the unit via @fleet/wire`);
    else log(`figure 1b: ${N_SINGLE} single units via fleetctl start (${main})`);
    const samples = [];
    const exitMs = [];
    const failures = [];
    for (let i = 0; i < N_SINGLE + 1; i++) {
      const name = unitName("cli");
      names.push(name);
      const file = join(dir, name);
      writeFileSync(file, unitFileText(name));
      const t = now();
      const r =
        mode === "fleetctl"
          ? await runFleetctl(main, ["start", file], env)
          : await runProcess(process.execPath, ["--input-type=module", "-e", FALLBACK_SCRIPT, name, cluster.endpoints.api], env, 30_000);
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
    const baseline = [];
    if (mode === "fleetctl") {
      for (let i = 0; i < 5; i++) {
        const t = now();
        const r = await runFleetctl(main, ["list-machines"], env);
        if (r.code === 0) baseline.push(now() - t);
      }
    }
    // And what any Node process costs here before it runs a line.
    const nodeStart = [];
    for (let i = 0; i < 5; i++) {
      const t = now();
      const r = await runProcess(process.execPath, ["-e", "0"], env, 30_000);
      if (r.code === 0) nodeStart.push(now() - t);
    }
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

/**
 * Figure 2 as a user runs it: one `fleetctl start` of n unit files, which returns once every
 * unit is launched (its start job done); then one listUnitStates checks they are all active.
 * The bench does not poll meanwhile, fleetctl's own polling is the only observer.
 */
async function phaseBatchCli(api, cluster, n) {
  const main = fleetctlMain();
  if (!main) return { skipped: "fleetctl not built" };
  const dir = mkdtempSync(join(tmpdir(), "fleet-bench-batch-"));
  const names = Array.from({ length: n }, () => unitName("clibatch"));
  const set = new Set(names);
  try {
    for (const name of names) writeFileSync(join(dir, name), unitFileText(name));
    const t = now();
    const r = await runFleetctl(main, ["start", ...names.map((nm) => join(dir, nm))], { ...process.env, ...cluster.env });
    const exitedMs = now() - t;
    if (r.code !== 0) throw new Error(`fleetctl start of ${n} units exited ${r.code}: ${(r.err || r.out).trim().slice(-300)}`);
    await pollStates(api, [], (states) => states.filter((s) => set.has(s.name) && isActive(s)).length === n, { intervalMs: POLL_MS, timeoutMs: 60_000, what: `${n} units active` });
    return { units: n, allActiveMs: round(now() - t), fleetctlExitedMs: round(exitedMs), launchedLines: r.out.split("\n").filter((l) => / launched on /.test(l)).length };
  } finally {
    await destroyAll(api, names);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts n units at once; returns timings and names. Polls every pollMs. */
async function startBatch(api, n, pollMs) {
  const names = Array.from({ length: n }, () => unitName("batch"));
  const set = new Set(names);
  const t = now();
  let createdAt;
  const creating = Promise.all(names.map((nm) => api.create(nm))).then(() => (createdAt = now() - t));
  let firstActiveMs;
  const result = await pollStates(
    api,
    [],
    (states) => {
      const active = states.filter((s) => set.has(s.name) && isActive(s));
      if (active.length > 0 && firstActiveMs === undefined) firstActiveMs = now() - t;
      return active.length === n ? active : undefined;
    },
    { intervalMs: pollMs, timeoutMs: 60_000, what: `${n} units active` },
  );
  const allActiveMs = now() - t;
  await creating;
  return { names, allActiveMs, createdAt, firstActiveMs, states: result };
}

function distribution(cluster, states) {
  const byId = Object.fromEntries(cluster.state.machines.map((m) => [m.machineId, m.name]));
  const d = {};
  for (const s of states) {
    const k = byId[s.machineId] ?? s.machineId;
    d[k] = (d[k] ?? 0) + 1;
  }
  return d;
}

async function phaseEtcdSingles(api, metricsUrl, idle, perPoll) {
  log(`figure 5b: etcd requests for ${N_SINGLE} single units started one after another`);
  const names = [];
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

async function phaseFailover(api, cluster, batchStates) {
  const dist = distribution(cluster, batchStates);
  const victim = Object.entries(dist).sort((x, y) => y[1] - x[1])[0][0];
  const victimId = cluster.machine(victim).machineId;
  const units = batchStates.filter((s) => s.machineId === victimId).map((s) => s.name);
  const set = new Set(units);
  log(`figure 3: killing ${victim} with ${units.length} unit(s) on it`);
  const t = now();
  const killing = cluster.kill(victim);
  let killReturnedMs;
  killing.then(() => (killReturnedMs = now() - t)).catch(() => {});
  let lastCount = 0;
  let firstMovedMs;
  const result = await pollStates(
    api,
    [],
    (states) => {
      const moved = new Set(states.filter((s) => set.has(s.name) && isActive(s) && s.machineId !== victimId).map((s) => s.name));
      if (moved.size > 0 && firstMovedMs === undefined) firstMovedMs = now() - t;
      lastCount = moved.size;
      return moved.size === units.length ? states.filter((s) => set.has(s.name) && isActive(s) && s.machineId !== victimId) : undefined;
    },
    { intervalMs: POLL_MS, timeoutMs: 60_000, what: `units of ${victim} active elsewhere` },
  ).catch((e) => {
    throw new Error(`${e.message} (${lastCount}/${units.length} moved)`);
  });
  const ms = now() - t;
  await killing;
  return {
    killedMachine: victim,
    units: units.length,
    allActiveElsewhereMs: round(ms),
    firstActiveElsewhereMs: round(firstMovedMs),
    killCallReturnedMs: round(killReturnedMs),
    newDistribution: distribution(cluster, result),
  };
}

// ---------------------------------------------------------------------------------------
// Output

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}
function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r, ri) => r.map((c, i) => pad(c, widths[i])).join("  ") + (ri === 0 ? "\n" + widths.map((w) => "-".repeat(w)).join("  ") : "")).join("\n");
}
const ok = (v, target) => (v === null || v === undefined ? "n/a" : v <= target ? "ok" : "MISS");
const ms = (v) => (v === null || v === undefined ? "n/a" : `${v} ms`);

function render(r) {
  const rows = [["figure", "measured", "target", "", "original fleet"]];
  const s = r.singleApi;
  if (s) {
    rows.push(["1a one unit start->active, API   p50", ms(s.p50), `<= ${TARGETS.singleP50Ms} ms`, ok(s.p50, TARGETS.singleP50Ms), `${ORIGINAL_FLEET.singleMs} ms`]);
    rows.push([`1a one unit start->active, API   p99 (=max of ${s.n})`, ms(s.p99), `<= ${TARGETS.singleP99Ms} ms`, ok(s.p99, TARGETS.singleP99Ms), ""]);
  }
  const c = r.singleCli;
  if (c) {
    const label = c.mode === "fleetctl" ? "fleetctl start" : "CLI FALLBACK (node+wire, no fleetctl)";
    rows.push([`1b one unit start->active, ${label} p50`, ms(c.p50), `<= ${TARGETS.singleP50Ms} ms`, ok(c.p50, TARGETS.singleP50Ms), `${ORIGINAL_FLEET.singleMs} ms`]);
    rows.push([`1b one unit start->active, ${label} p99 (=max of ${c.n})`, ms(c.p99), `<= ${TARGETS.singleP99Ms} ms`, ok(c.p99, TARGETS.singleP99Ms), ""]);
    rows.push([`1b   of which fleetctl start ran (spawn->exit) p50`, ms(c.processExit?.p50), "", "", ""]);
    if (c.listMachinesProcess?.n) rows.push([`1b   baseline: a fleetctl list-machines process p50`, ms(c.listMachinesProcess.p50), "", "", ""]);
    if (c.bareNodeProcess?.n) rows.push([`1b   baseline: a bare node -e 0 process p50${c.nodeExtraCaCertsSet ? " (NODE_EXTRA_CA_CERTS set)" : ""}`, ms(c.bareNodeProcess.p50), "", "", ""]);
  }
  const b = r.batch;
  if (b) {
    rows.push([`2  ${b.units} units concurrently -> all active`, ms(b.allActiveMs), `<= ${TARGETS.batchMs} ms`, ok(b.allActiveMs, TARGETS.batchMs), `${ORIGINAL_FLEET.batchMs} ms`]);
    if (r.batchCli?.allActiveMs) rows.push([`2b ${r.batchCli.units} units by one fleetctl start -> all active`, ms(r.batchCli.allActiveMs), `<= ${TARGETS.batchMs} ms`, ok(r.batchCli.allActiveMs, TARGETS.batchMs), ""]);
    if (r.batchSystemdFloor) rows.push([`2    floor: the same ${r.batchSystemdFloor.units} units by systemctl start in the machines, no fleet`, ms(r.batchSystemdFloor.allStartedMs), "", "", ""]);
    rows.push([`2    all create RPCs returned / first unit active`, `${ms(b.allCreateRpcsReturnedMs)} / ${ms(b.firstActiveMs)}`, "", "", ""]);
    rows.push([`2    distribution`, Object.entries(b.distribution).map(([k, v]) => `${k}:${v}`).join(" "), "", "", ""]);
  }
  const f = r.failover;
  if (f) {
    rows.push([`3  failover: kill ${f.killedMachine} (${f.units} units) -> all active elsewhere`, ms(f.allActiveElsewhereMs), `<= ${TARGETS.failoverMs} ms (ttl+1s)`, ok(f.allActiveElsewhereMs, TARGETS.failoverMs), ""]);
  }
  for (const p of r.rss ?? []) {
    const isAgent = p.process.startsWith("agent");
    rows.push([`4  RSS idle, ${r.batch?.units ?? 0} units: ${p.process}`, p.rssMB === null ? "n/a" : `${p.rssMB} MB`, isAgent ? `<= ${TARGETS.agentRssMB} MB` : "", isAgent ? ok(p.rssMB, TARGETS.agentRssMB) : "", ""]);
  }
  for (const [k, e] of [
    ["batch", r.etcd?.batch],
    ["singles", r.etcd?.singles],
  ]) {
    if (!e) continue;
    rows.push([`5  etcd req/unit, ${e.units} ${k === "batch" ? "units at once" : "units one by one"}: net`, e.netPerUnit, `<= ${TARGETS.etcdPerUnit}`, ok(e.netPerUnit, TARGETS.etcdPerUnit), ORIGINAL_FLEET.etcdPerUnit]);
    rows.push([`5    raw (incl. background ${e.idlePerSecond}/s over ${e.windowSeconds} s, ${e.benchPolls} polls)`, e.rawPerUnit, "", "", ""]);
  }
  return table(rows);
}

// ---------------------------------------------------------------------------------------
// Main

async function main() {
  const result = {
    startedAt: new Date().toISOString(),
    host: { node: process.version, cpus: cpus().length, loadavgAtStart: loadavg().map((x) => round(x, 2)) },
    commit: (() => {
      try {
        return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim();
      } catch {
        return undefined;
      }
    })(),
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
  let cluster;
  let api;
  let stopping;
  const stopAll = async () => {
    if (stopping) return stopping;
    stopping = (async () => {
      try {
        api?.close();
      } catch {
        /* ignore */
      }
      if (cluster) {
        log("stopping the cluster");
        const rep = await cluster.stop({ removeState: true }).catch((e) => ({ errors: [String(e)] }));
        if (rep.errors?.length) log(`stop errors: ${rep.errors.join("; ")}`);
        else log(`stopped: ${rep.stopped?.join(", ")}`);
      }
    })();
    return stopping;
  };
  const onSignal = (sig) => {
    log(`got ${sig}: cleaning up`);
    stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const watchdog = setTimeout(() => {
    log(`deadline of ${DEADLINE_MS / 1000} s passed: cleaning up`);
    result.errors.push("deadline passed");
    stopAll().finally(() => {
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
      log: (m) => log(`testkit: ${m}`),
    });
    result.clusterStartMs = round(now() - tc, 0);
    api = new Api(cluster.endpoints.api);
    const metricsUrl = cluster.endpoints.etcdMetrics;
    const machines = await api.machines();
    log(`cluster up: ${machines.length} machine(s) registered; settling 3 s`);
    await sleep(3_000);

    // Idle etcd rate with no units, and the etcd cost of one of our polls.
    const idle = await idleRate(metricsUrl, 8_000);
    log(`idle etcd rate: ${idle.perSecond}/s (unary ${idle.unaryPerSecond}/s)`);
    const poll = await pollCost(api, metricsUrl, idle);
    log(`etcd requests per listUnitStates poll: ${poll.perPoll} (${poll.polls} polls)`);
    result.etcd = { idleNoUnits: idle, pollCost: poll };

    result.singleApi = await phaseSingleApi(api);
    log(`1a: p50 ${result.singleApi.p50} ms, max ${result.singleApi.max} ms`);
    result.singleCli = await phaseSingleCli(api, cluster);
    log(`1b (${result.singleCli.mode}): p50 ${result.singleCli.p50} ms, max ${result.singleCli.max} ms`);

    result.etcd.singles = await phaseEtcdSingles(api, metricsUrl, idle, poll.perPoll);
    log(`5b: ${result.etcd.singles.netPerUnit} net etcd requests/unit (raw ${result.etcd.singles.rawPerUnit})`);

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
    result.etcd.batch = etcdFigure(etcdDelta(a, b), N_BATCH, idleB, polls, poll.perPoll);
    log(`2: all ${N_BATCH} active in ${result.batch.allActiveMs} ms; ${JSON.stringify(result.batch.distribution)}; etcd net/unit ${result.etcd.batch.netPerUnit}`);

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
    result.etcd.idleWithUnits = await idleRate(metricsUrl, 5_000);

    // Figure 3: failover of the machine with most units.
    result.failover = await phaseFailover(api, cluster, batch.states);
    log(`3: ${result.failover.units} units of ${result.failover.killedMachine} active elsewhere in ${result.failover.allActiveElsewhereMs} ms`);
    await destroyAll(api, batch.names);
  } catch (e) {
    result.errors.push(String(e?.stack ?? e));
    log(`FAILED: ${e?.stack ?? e}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    await stopAll();
  }
  result.finishedAt = new Date().toISOString();
  result.durationSeconds = round((Date.now() - t0Run) / 1000, 1);
  result.host.loadavgAtEnd = loadavg().map((x) => round(x, 2));
  process.stdout.write("\n" + render(result) + "\n\n");
  if (result.singleCli?.mode === "fallback") process.stdout.write(`note: 1b used the fallback: ${result.singleCli.fallbackReason}\n`);
  for (const n of result.notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(`note: host ${result.host.cpus} CPUs, load average (1/5/15 min) ${result.host.loadavgAtStart.join("/")} at start, ${result.host.loadavgAtEnd.join("/")} at end; commit ${result.commit}; run took ${result.durationSeconds} s\n`);
  if (result.errors.length) process.stdout.write(`ERRORS:\n${result.errors.join("\n")}\n`);
  process.stdout.write("\n" + JSON.stringify(result) + "\n");
  writeResults(result);
}

function writeResults(result) {
  try {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, "latest.json"), JSON.stringify(result, null, 2) + "\n");
  } catch (e) {
    log(`could not write results: ${e}`);
  }
}

await main();

#!/usr/bin/env node
// The floor of the scale bench's "all active" and failover figures: the same simulated machines
// (the project's agents in the same worker processes, at the same niceness, with their own gRPC
// and NATS connections, sim-machine.ts) against a registry that costs nothing
// (floor-registry.ts: answers from memory, places units itself, declares a machine lost
// agent_ttl after its last heartbeat). What is left is what the agents, grpc-js and NATS need
// on this machine to start the units: the scale bench cannot be faster than this with this
// simulation, however cheap etcd, the gateway, the engine and the api become.
//
//   node bench/dist/scale/agents-floor.js [--machines 1000] [--units 10000] [--ttl 5]
//        [--batch-ms 850] [--per-worker 250] [--sim-nice 10] [--failover-share 0.1]
//        [--reconcile 5] [--keep-logs]
//
// Units are placed in batches of 1000, --batch-ms apart (the pace at which the scale bench's
// CreateUnits requests complete, about 850 ms each on this machine), and "all active" is
// counted from the last batch, as the scale bench counts it from the last create. Failover: a
// share of the machines lose power; measured from then until the registry declared them all
// lost (gone), and until all their units are reported active elsewhere.
// Prints a line per figure and one JSON line (also bench/results/agents-floor.json).
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { sleep, startNatsLocal, waitFor, type NatsHandle } from "@fleet/launcher";
import { connectHintBus, type HintBus } from "@fleet/wire";
import { CREATE_BATCH } from "./fleet-api.js";
import { FloorRegistry } from "./floor-registry.js";
import { callsPerMachine } from "./gateway-metrics.js";
import { pickVictims } from "./phase-failover.js";
import { load } from "./proc-stats.js";
import { simMachineId, Simulators } from "./simulators.js";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "results");
const PHASE_TIMEOUT_MS = 180_000;

const { values } = parseArgs({
  options: {
    machines: { type: "string", default: "1000" },
    units: { type: "string", default: "10000" },
    ttl: { type: "string", default: "5" },
    "batch-ms": { type: "string", default: "850" },
    "per-worker": { type: "string", default: "250" },
    "sim-nice": { type: "string", default: "10" },
    "failover-share": { type: "string", default: "0.1" },
    reconcile: { type: "string", default: "5" },
    "keep-logs": { type: "boolean", default: false },
  },
});
function num(name: keyof typeof values, min = 0): number {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number of at least ${min}`);
  return n;
}

const t0 = performance.now();
const log = (msg: string): void => void process.stderr.write(`[agents-floor +${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

/** How long until `done` holds (polled every 20 ms by the launcher's waitFor); past the phase timeout, an error with the progress. */
async function until(what: string, done: () => boolean, progress: () => string): Promise<number> {
  const start = performance.now();
  await waitFor(what, done, { timeoutMs: PHASE_TIMEOUT_MS, intervalMs: 20 }).catch((err: Error) => {
    throw new Error(`${err.message} (${progress()})`);
  });
  return Math.round(performance.now() - start);
}

async function main(): Promise<void> {
  const machines = num("machines", 1);
  const unitCount = num("units", 1);
  const ttl = num("ttl", 1);
  const batchMs = num("batch-ms");
  const simNice = num("sim-nice");
  const share = num("failover-share");
  const runHex = randomBytes(4).toString("hex");
  const stateDir = `/var/tmp/fleet-dev/agents-floor-${runHex}`;
  const unitsDir = `/dev/shm/fleet-floor-${runHex}`;
  const ids = Array.from({ length: machines }, (_, i) => simMachineId(runHex, i));
  const names = Array.from({ length: unitCount }, (_, i) => `floor-${runHex}-${i}.service`);
  mkdirSync(stateDir, { recursive: true });

  let nats: NatsHandle | undefined;
  let hints: HintBus | undefined;
  let sims: Simulators | undefined;
  let registry: FloorRegistry | undefined;
  const server = new grpc.Server();
  let cleaning: Promise<void> | undefined;
  const cleanup = (keepLogs: boolean) =>
    (cleaning ??= (async () => {
      registry?.stop();
      const stopped = sims ? await sims.stop() : { stopped: [], errors: [] };
      server.forceShutdown();
      await hints?.close();
      await nats?.stop();
      rmSync(unitsDir, { recursive: true, force: true });
      if (!keepLogs) rmSync(stateDir, { recursive: true, force: true });
      log(`cleanup: stopped ${stopped.stopped.length + (nats ? 1 : 0)} process(es) we started; removed ${unitsDir}${keepLogs ? `; logs kept in ${stateDir}` : `; removed ${stateDir}`}`);
      if (stopped.errors.length) log(`cleanup errors: ${stopped.errors.join("; ")}`);
    })());
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void cleanup(true).finally(() => process.exit(130)));

  let failed = false;
  try {
    nats = await startNatsLocal({ dir: stateDir });
    hints = await connectHintBus([nats.url], "agents-floor", pino({ level: "warn" }));
    registry = new FloorRegistry(hints, ttl * 1000);
    const port = await registry.serve(server);
    const reg = registry;
    sims = new Simulators({ ids, perWorker: num("per-worker", 1), nice: simNice, logDir: join(stateDir, "sim") });
    await sims.init({ gateway: `127.0.0.1:${port}`, natsServers: [nats.url], ttlSeconds: ttl, reconcileSeconds: num("reconcile", 1), unitsDir, logLevel: "info" });
    log(`${machines} simulated machines built in ${sims.workers.length} worker process(es) at nice ${simNice}; starting them at once`);

    const calls = () => new Map(Object.entries(reg.calls));
    const atGo = calls();
    sims.go();
    const registerMs = await until("register", () => reg.machines.size >= machines, () => `${reg.machines.size} registered`);
    log(`all ${machines} registered in ${registerMs} ms`);

    const beforeUnits = calls();
    const registerCalls = callsPerMachine(atGo, beforeUnits, machines);
    const tCreate = performance.now();
    for (let i = 0; i < names.length; i += CREATE_BATCH) {
      if (i > 0) await sleep(batchMs);
      reg.place(names.slice(i, i + CREATE_BATCH));
    }
    const placeMs = Math.round(performance.now() - tCreate);
    const activeMs = await until("units", () => reg.activeCount(names) === names.length, () => `${reg.activeCount(names)} of ${names.length} active`);
    log(`${unitCount} units placed in ${Math.ceil(unitCount / CREATE_BATCH)} batches over ${placeMs} ms; all active ${activeMs} ms after the last batch`);
    const unitsCalls = callsPerMachine(beforeUnits, calls(), machines);
    const unitsStats = await sims.stats();
    const lostInUnits = [...reg.machines.values()].filter((m) => m.lostAt !== undefined).length;

    await sleep(10_000);
    let failover: { machines: number; units: number; goneMs: number; activeElsewhereMs: number } | undefined;
    const victims = pickVictims(ids, share);
    if (victims.length > 0) {
      const moved = reg.unitsOn(victims);
      const tKill = performance.now();
      await sims.kill(victims);
      const goneMs = await until("failover (gone)", () => victims.every((id) => reg.machines.get(id)?.lostAt !== undefined), () => `${victims.filter((id) => reg.machines.get(id)?.live).length} still live`);
      await until("failover (active elsewhere)", () => reg.activeCount(moved) === moved.length, () => `${reg.activeCount(moved)} of ${moved.length} active`);
      const activeElsewhereMs = Math.round(performance.now() - tKill);
      failover = { machines: victims.length, units: moved.length, goneMs: Math.round(goneMs), activeElsewhereMs };
      log(`failover: ${victims.length} machines with ${moved.length} units lose power: gone ${failover.goneMs} ms, active elsewhere ${activeElsewhereMs} ms`);
    }
    const end = await sims.stats();
    const result = {
      startedAt: new Date().toISOString(),
      machines,
      units: unitCount,
      agentTtlSeconds: ttl,
      simNice,
      batchMs,
      registerMs,
      placeMs,
      activeMs,
      failover,
      callsPerMachine: { register: registerCalls, units: unitsCalls },
      machinesLostWhileUnitsStarted: lostInUnits,
      heartbeatFailures: end.warnings["heartbeat failed; retrying"] ?? 0,
      simLoopP99MsWhileUnitsStarted: unitsStats.loopDelayP99Ms,
      registrations: reg.registrations,
      load: load(),
    };
    console.log(`agents floor: ${machines} simulated machines (nice ${simNice}) against a registry that answers at once, agent_ttl ${ttl} s`);
    console.log(`  all registered: ${registerMs} ms`);
    console.log(`  all ${unitCount} units active, after the last of ${Math.ceil(unitCount / CREATE_BATCH)} batches ${batchMs} ms apart: ${activeMs} ms`);
    console.log(`  calls per machine while units started: ${JSON.stringify(unitsCalls)}`);
    if (failover) console.log(`  failover of ${failover.machines} machines: gone ${failover.goneMs} ms, their ${failover.units} units active elsewhere ${failover.activeElsewhereMs} ms`);
    console.log(`  machines lost while units started: ${lostInUnits}; heartbeat failures: ${result.heartbeatFailures}; worker loop p99 while units started: ${result.simLoopP99MsWhileUnitsStarted} ms; load ${result.load.join("/")}`);
    console.log(JSON.stringify(result));
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, "agents-floor.json"), `${JSON.stringify(result)}\n`);
  } catch (err) {
    failed = true;
    log(`failed: ${(err as Error).message}`);
  } finally {
    await cleanup(values["keep-logs"] || failed);
  }
  process.exit(failed ? 1 : 0);
}

await main();

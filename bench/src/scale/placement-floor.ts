#!/usr/bin/env node
// What the control plane alone places: the scale bench's units phase without agents starting
// the units on the same cores. The real etcd, NATS, gateway, two engines and the api
// (startCluster, as the scale bench), N machines registered straight at the gateway with a long
// lease (RegisterMachine, ttl 600 s: nothing heart-beats, nothing reads a schedule or starts a
// unit), then M units created through the api in CreateUnits requests of 1,000, one after
// another, followed on a WatchUnits stream until every one is placed. placementsPerSecond is
// counted as the scale bench counts it (M / (first create to all placed)); the scale bench's
// lower figure is this rate with 1,000 simulated agents starting the earlier units meanwhile.
// Then fleetctl list-machines and list-unit-files over them all (best of 3; list-units shows
// the states agents report, and here none does), and every process's RSS:
// with --machines 5000 --units 50000, the control plane's figures at the scale the scale bench
// cannot simulate on this machine (nothing heart-beats: the gateway holds no agent connections).
//
//   node bench/dist/scale/placement-floor.js [--machines 1000] [--units 10000] [--keep-logs]
//
// Prints a line per figure and one JSON line (also bench/results/placement-floor.json).
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { sleep, startCluster, waitFor, type ClusterHandle } from "@fleet/launcher";
import { connect, RegistryServiceClient, unary } from "@fleet/wire";
import { FleetApi } from "./fleet-api.js";
import { timeFleetctl } from "./phase-reads.js";
import { cpuPercent, cpuSnapshot, load, rssMb } from "./proc-stats.js";
import { simMachineId } from "./simulators.js";
import { openUnitsWatch, type UnitsWatch } from "./units-watch.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const RESULTS = join(ROOT, "bench", "results");
const REGISTERED_TIMEOUT_MS = 120_000;
const PLACED_TIMEOUT_MS = 120_000;
const LEASE_SECONDS = 600;

/** --machines and --units, or a message that names the bad one. */
function options(): { machines: number; units: number; keepLogs: boolean } {
  const { values } = parseArgs({
    options: {
      machines: { type: "string", default: "1000" },
      units: { type: "string", default: "10000" },
      "keep-logs": { type: "boolean", default: false },
    },
  });
  const count = (name: "machines" | "units"): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1`);
    return n;
  };
  return { machines: count("machines"), units: count("units"), keepLogs: values["keep-logs"] };
}

const t0 = performance.now();
const log = (msg: string): void => void process.stderr.write(`[placement-floor +${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

async function main(): Promise<void> {
  let o: ReturnType<typeof options>;
  try {
    o = options();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(64);
  }
  const { machines, units } = o;
  const run = randomBytes(4).toString("hex");
  const stateDir = `/var/tmp/fleet-dev/placement-floor-${run}`;
  let cluster: ClusterHandle | undefined;
  let registry: RegistryServiceClient | undefined;
  let api: FleetApi | undefined;
  let watch: UnitsWatch | undefined;
  let failed = false;
  let stopping: Promise<void> | undefined;
  // Once, whoever asks first (the end of main, a signal): it stops only what this run started.
  const stop = () =>
    (stopping ??= (async () => {
      watch?.cancel();
      api?.close();
      registry?.close();
      const keep = o.keepLogs || failed;
      const r = await cluster?.stop({ removeState: !keep });
      log(`cleanup: stopped ${r?.stopped.join(", ") ?? "nothing"}${keep ? `; logs kept in ${stateDir}` : `; removed ${stateDir}`}`);
    })());
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.once(signal, () => {
      failed = true;
      void stop().finally(() => process.exit(code));
    });
  }
  try {
    cluster = await startCluster({ repoRoot: ROOT, machines: [], stateDir, cluster: `placement-floor-${run}`, engines: 2, log: (m) => log(`launcher: ${m}`) });
    const ep = cluster.endpoints;
    const gateway = (registry = connect(RegistryServiceClient, ep.gateway ?? ""));
    const ids = Array.from({ length: machines }, (_, i) => simMachineId(run, i));
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(
        ids.slice(i, i + 100).map((id) =>
          unary(gateway.registerMachine.bind(gateway), { machine: { id, publicIp: "127.0.0.1", metadata: {}, version: "", agentEndpoint: "" }, ttlSeconds: LEASE_SECONDS, instance: "" }),
        ),
      );
    }
    const fleet = (api = new FleetApi(ep.api ?? ""));
    let listed = 0;
    await waitFor(
      `${machines} machines in ListMachines`,
      async () => {
        listed = (await fleet.machineIds()).ids.size;
        return listed >= machines;
      },
      { timeoutMs: REGISTERED_TIMEOUT_MS, intervalMs: 200 },
    ).catch((err: Error) => {
      throw new Error(`${listed} of ${machines} machines listed: ${err.message}`);
    });
    log(`${machines} machines registered at the gateway (leases of ${LEASE_SECONDS} s, no agents)`);
    const names = Array.from({ length: units }, (_, i) => `floor-${run}-${i}.service`);
    const followed = (watch = await openUnitsWatch(fleet, names));
    const procs = cluster.state.components.map((c) => ({ name: c.name, pid: c.pid }));
    const cpu0 = cpuSnapshot(procs);
    const tFirst = performance.now();
    await fleet.createUnits(names);
    const tLast = performance.now();
    const createMs = tLast - tFirst;
    while (followed.watched.placed < units) {
      const err = followed.failure();
      if (err) throw new Error(`WatchUnits failed at ${followed.watched.placed} of ${units} placed: ${err.message}`);
      if (performance.now() - tLast > PLACED_TIMEOUT_MS) throw new Error(`after ${PLACED_TIMEOUT_MS} ms, ${followed.watched.placed} of ${units} placed`);
      await sleep(20);
    }
    const placedMs = performance.now() - tLast;
    const cpu = cpuPercent(cpu0, cpuSnapshot(procs));
    const placementsPerSecond = Math.round(units / ((createMs + placedMs) / 1000));
    const listMachines = await timeFleetctl(ROOT, ep.api ?? "", ["list-machines", "--no-legend"]);
    const listUnitFiles = await timeFleetctl(ROOT, ep.api ?? "", ["list-unit-files", "--no-legend"]);
    const result = {
      startedAt: new Date().toISOString(),
      machines,
      units,
      createMs: Math.round(createMs),
      placedMs: Math.round(placedMs),
      placementsPerSecond,
      cpuPercent: cpu,
      fleetctlListMachinesMs: listMachines.ms,
      fleetctlListMachinesLines: listMachines.lines,
      fleetctlListUnitFilesMs: listUnitFiles.ms,
      fleetctlListUnitFilesLines: listUnitFiles.lines,
      rssMb: rssMb(procs),
      load: load(),
    };
    process.stdout.write(
      `placement floor: ${machines} machines (no agents), ${units} units in CreateUnits of 1000\n` +
        `  created in ${result.createMs} ms; all placed ${result.placedMs} ms after the last create\n` +
        `  placements per second, first create to all placed: ${placementsPerSecond}\n` +
        `  CPU % meanwhile: ${JSON.stringify(cpu)}; load ${load().join("/")}\n` +
        `  fleetctl list-machines: ${listMachines.ms} ms (${listMachines.lines} lines); list-unit-files: ${listUnitFiles.ms} ms (${listUnitFiles.lines} lines)\n` +
        `  RSS MB: ${JSON.stringify(result.rssMb)}\n` +
        `${JSON.stringify(result)}\n`,
    );
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, "placement-floor.json"), JSON.stringify(result) + "\n");
  } catch (err) {
    failed = true;
    log(`failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  } finally {
    await stop();
  }
}

await main();

// The idle soak: nothing is asked of the cluster but ListMachines once a second. A spurious
// loss is a machine that is running (never stopped by the bench) and yet (a) is missing from
// ListMachines at any sample, or (b) is declared lost by an engine ("machine lost: its units
// move" in an engine's log). Also counted: the agents' registrations beyond their first (a
// registration lapsed, or a lease was replaced), their warnings by message, the services'
// warnings, and units whose placement changed.
import { performance } from "node:perf_hooks";
import { sleep } from "@fleet/launcher";
import type { FleetApi } from "./fleet-api.js";
import { logOffsets, scanLogsSince } from "./log-scan.js";
import { cpuPercent, cpuSnapshot, load, type NamedProc } from "./proc-stats.js";
import type { Simulators } from "./simulators.js";

const SAMPLE_MS = 1000;

/** Units whose machine changed between two placement maps. Pure. */
export function movedUnits(before: Map<string, string>, after: Map<string, string>): number {
  let n = 0;
  for (const [name, machine] of before) if (machine && after.has(name) && after.get(name) !== machine) n++;
  return n;
}

export interface SoakOptions {
  api: FleetApi;
  simulators: Simulators;
  ids: string[];
  seconds: number;
  serviceLogs: string[];
  procs: NamedProc[];
  log: (m: string) => void;
}

export type Soak = Awaited<ReturnType<typeof phaseSoak>> & { simLoopMaxMs?: number };

export async function phaseSoak(o: SoakOptions) {
  const offsets = logOffsets(o.serviceLogs);
  const [stats0, placements0] = await Promise.all([o.simulators.stats(), o.api.placements()]);
  const cpu0 = cpuSnapshot(o.procs);
  const vanished = new Map<string, number>(); // id -> samples it was missing in
  let samples = 0;
  let failedSamples = 0;
  const loads: number[] = [];
  const start = performance.now();
  const end = start + o.seconds * 1000;
  let firstLossAt: number | undefined;
  let nextLog = performance.now() + 30_000;
  while (performance.now() < end) {
    const t = performance.now();
    try {
      const { ids } = await o.api.machineIds();
      samples++;
      for (const id of o.ids) if (!ids.has(id)) vanished.set(id, (vanished.get(id) ?? 0) + 1);
      if (vanished.size > 0) firstLossAt ??= Math.round((performance.now() - start) / 100) / 10;
    } catch (err) {
      failedSamples++;
      o.log(`soak: ListMachines failed: ${(err as Error).message}`);
    }
    loads.push(load()[0]!);
    if (performance.now() > nextLog) {
      nextLog += 30_000;
      o.log(`soak: ${Math.round((end - performance.now()) / 1000)} s left; machines missing so far: ${vanished.size}; load ${load().join("/")}`);
    }
    await sleep(Math.max(0, SAMPLE_MS - (performance.now() - t)));
  }
  const cpu = cpuPercent(cpu0, cpuSnapshot(o.procs));
  // A cluster that collapsed may not answer these: the soak's counts stand without them.
  const [stats1, placements1] = await Promise.all([
    o.simulators.stats().catch(() => undefined),
    o.api.placements().catch((err: Error) => void o.log(`soak: ListUnits at the end failed: ${err.message}`)),
  ]);
  const logs = scanLogsSince(offsets);
  const declaredLost = new Set(logs.lost.filter((id) => o.ids.includes(id)));
  const lostIds = new Set([...vanished.keys(), ...declaredLost]);
  const agentWarnings: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats1?.warnings ?? {})) if (v - (stats0.warnings[k] ?? 0) > 0) agentWarnings[k] = v - (stats0.warnings[k] ?? 0);
  return {
    seconds: o.seconds,
    samples,
    failedSamples,
    spuriousLosses: lostIds.size,
    missingFromListMachines: vanished.size,
    firstLossAtSeconds: firstLossAt ?? null,
    declaredLostByEngine: declaredLost.size,
    lostMachineIds: [...lostIds].slice(0, 20),
    reRegistrations: stats1 ? stats1.registrations - stats0.registrations : null,
    unitsMoved: placements1 ? movedUnits(placements0, placements1) : null,
    agentWarnings,
    serviceWarnings: logs.warnings,
    cpuPercent: cpu,
    loadMax: Math.max(...loads),
    loadMean: Math.round((100 * loads.reduce((a, b) => a + b, 0)) / Math.max(1, loads.length)) / 100,
  };
}

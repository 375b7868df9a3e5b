// The scale bench's result: the JSON object (one line on stdout, and bench/results/scale.json)
// and the table printed before it. Pure, except writeResult.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EtcdRate } from "./etcd-metrics.js";
import type { ScaleOptions } from "./options.js";
import type { Failover } from "./phase-failover.js";
import type { GlobalPhase } from "./phase-global.js";
import type { Reads } from "./phase-reads.js";
import type { Soak } from "./phase-soak.js";
import type { UnitsPhase } from "./phase-units.js";
import type { Sample } from "./sampler.js";
import type { SimulatorStats } from "./simulators.js";

/** How the simulated machines fared over a phase: the cause of a slow figure, when they starved. */
export interface SimulationWhile {
  /** Registrations after the first: machines whose lease was revoked meanwhile, registering again. */
  reRegistrations: number;
  heartbeatFailures: number;
  /** The worst worker event-loop lag p99 among the phase's samples (every 5 s). */
  loopP99MaxMs: number;
}

const HEARTBEAT_FAILED = "heartbeat failed; retrying";

/** The simulation over a phase, from the simulators' counters before and after it and the samples taken meanwhile. Pure. */
export function simulationWhile(before: SimulatorStats, after: SimulatorStats, samples: readonly Sample[]): SimulationWhile {
  return {
    reRegistrations: after.registrations - before.registrations,
    heartbeatFailures: (after.warnings[HEARTBEAT_FAILED] ?? 0) - (before.warnings[HEARTBEAT_FAILED] ?? 0),
    loopP99MaxMs: Math.max(after.loopDelayP99Ms, ...samples.map((x) => x.simLoopP99Ms ?? 0)),
  };
}

/** What the phases measured (the JSON's "phases"). */
export interface Run {
  timeline?: Sample[];
  registerMs?: number;
  /** Calls the gateways answered per machine, by method, while the machines registered and while the units were created and started. */
  gatewayCallsPerMachine?: { register: Record<string, number>; units?: Record<string, number> };
  units?: UnitsPhase;
  unitsSimulation?: SimulationWhile;
  idle?: { etcd: EtcdRate; cpuPercent: Record<string, number>; rssMb: Record<string, number>; load: number[]; machinesHeard?: Record<string, number> };
  soak?: Soak;
  failover?: Failover | undefined;
  reads?: Reads;
  global?: GlobalPhase;
}

const r0 = (x: number | null | undefined) => (x === undefined || x === null || Number.isNaN(x) ? null : Math.round(x));
const r1 = (x: number | null | undefined) => (x === undefined || x === null || Number.isNaN(x) ? null : Math.round(x * 10) / 10);

export type Targets = ReturnType<typeof targets>;

/** Issue 11's targets on this 2-core machine, for m machines at agent_ttl ttl. Pure. */
export function targets(machines: number, ttl: number) {
  return {
    registerMs: 3000,
    placedMs: 3000,
    placementsPerSecond: 3000,
    activeMs: 8000,
    spuriousLosses: 0,
    failoverActiveMs: (ttl + 2) * 1000,
    idleEtcdRequestsPerSecond: machines / ttl,
    gatewayIdleCpuPercent: 10,
    gatewayRssKbPerMachine: 100,
    unitsPageRequestsPerSecond: 1000,
    unitsPageP99Ms: 50,
    fleetctlListUnitsMs: 500,
    fleetctlListMachinesMs: 500,
  };
}

export type Figures = ReturnType<typeof figures>;

/** The flat figures issue 11 names, from the phases' results. Pure. */
export function figures(o: ScaleOptions, run: Run) {
  /** The gateways' share of a per-process figure, summed. */
  const sum = (obj: Record<string, number> | undefined) => Object.entries(obj ?? {}).reduce((a, [n, v]) => (n.startsWith("registry-gateway") ? a + v : a), 0);
  return {
    machines: o.machines,
    units: o.units,
    agentTtlSeconds: o.ttl,
    gateways: o.gateways,
    busy: o.busy,
    registerMs: r0(run.registerMs),
    createMs: r0(run.units?.createMs),
    placedMs: r0(run.units?.placedMs),
    activeMs: r0(run.units?.activeMs),
    launchedMs: r0(run.units?.launchedMs),
    unitsFollowedBy: run.units?.followedBy ?? null,
    reRegistrationsWhileUnitsStarted: run.unitsSimulation?.reRegistrations ?? null,
    simLoopP99MsWhileUnitsStarted: run.unitsSimulation?.loopP99MaxMs ?? null,
    // From the first create to the last placement: the engine places units as they arrive, so a
    // rate over the time after the last create alone would divide by nearly nothing.
    placementsPerSecond: run.units?.placedMs !== undefined ? r0(o.units / ((run.units.createMs + run.units.placedMs) / 1000)) : null,
    spuriousLosses: run.soak ? run.soak.spuriousLosses : null,
    firstLossAtSoakSecond: run.soak ? run.soak.firstLossAtSeconds : null,
    reRegistrations: run.soak ? run.soak.reRegistrations : null,
    unitsMovedInSoak: run.soak ? run.soak.unitsMoved : null,
    soakSeconds: run.soak ? run.soak.seconds : null,
    idleEtcdRequestsPerSecond: run.idle ? r1(run.idle.etcd.perSecond) : null,
    gatewayIdleCpuPercent: run.idle ? r1(sum(run.idle.cpuPercent)) : null,
    gatewayMachinesHeard: run.idle?.machinesHeard ?? null,
    gatewayIdleRssMb: run.idle ? r1(sum(run.idle.rssMb)) : null,
    gatewayRssKbPerMachine: run.idle ? r0((sum(run.idle.rssMb) * 1024) / o.machines) : null,
    failoverMachines: run.failover?.machines ?? null,
    failoverGoneMs: r0(run.failover?.goneMs),
    failoverPlacedMs: r0(run.failover?.placedElsewhereMs),
    failoverLaunchedMs: r0(run.failover?.launchedElsewhereMs),
    failoverActiveMs: r0(run.failover?.activeElsewhereMs),
    unitsPageRequestsPerSecond: run.reads?.unitsPageRequestsPerSecond ?? null,
    unitsPageP50Ms: run.reads?.unitsPageP50Ms ?? null,
    unitsPageP99Ms: run.reads?.unitsPageP99Ms ?? null,
    unitsPageFloorRequestsPerSecond: run.reads?.floorPageRequestsPerSecond ?? null,
    unitsPageFloorP99Ms: run.reads?.floorPageP99Ms ?? null,
    fleetctlListUnitsMs: run.reads?.fleetctlListUnitsMs ?? null,
    fleetctlListMachinesMs: run.reads?.fleetctlListMachinesMs ?? null,
    globalUnits: run.global?.units ?? null,
    globalSpreadMs: run.global?.spreadMs ?? null,
    globalHalfActiveMs: r0(run.global?.halfActiveMs),
    globalActiveMs: r0(run.global?.activeMs),
    // null when no gateway's /metrics answered.
    globalGatewayLoopLagMaxMs: run.global && Object.keys(run.global.gatewayLoopLagMaxMs).length > 0 ? Math.max(...Object.values(run.global.gatewayLoopLagMaxMs)) : null,
    globalGatewayCpuPercent: run.global ? r1(sum(run.global.cpuPercent)) : null,
    reRegistrationsWhileGlobalUnitsStarted: run.global?.simulation.reRegistrations ?? null,
  };
}

const pad = (s: unknown, n: number) => String(s).padEnd(n);
const verdict = (v: number | null | undefined, t: number, lower = true) => (v === null || v === undefined ? "-" : (lower ? v <= t : v >= t) ? "ok" : "MISSED");

/** The table: figure, measured, target, verdict; then per-process idle CPU and RSS. Pure. */
export function renderTable(f: Figures, t: Targets, run: Run): string {
  const rows: [string, number | null | undefined, string, string, string][] = [
    ["machines registered", f.registerMs, "ms", `<= ${t.registerMs}`, verdict(f.registerMs, t.registerMs)],
    [`${f.units} units created (CreateUnits x ${Math.ceil(f.units / 1000)})`, f.createMs, "ms", "", ""],
    ["all placed, after the last create", f.placedMs, "ms", `<= ${t.placedMs}`, verdict(f.placedMs, t.placedMs)],
    ["placements per second, first create to all placed", f.placementsPerSecond, "/s", `>= ${t.placementsPerSecond}`, verdict(f.placementsPerSecond, t.placementsPerSecond, false)],
    ["all launched (WatchUnits), after the last create", f.launchedMs, "ms", "", ""],
    [`all active (${f.unitsFollowedBy === "poll" ? "lists polled" : "then ListUnitStates"}), after the last create`, f.activeMs, "ms", `<= ${t.activeMs}`, verdict(f.activeMs, t.activeMs)],
    ["  machines lost and registered again meanwhile", f.reRegistrationsWhileUnitsStarted, "", "", ""],
    ["  simulator loop lag meanwhile (worst p99)", f.simLoopP99MsWhileUnitsStarted, "ms", "", ""],
    [`idle etcd requests (${run.idle?.etcd.seconds ?? "-"} s window)`, f.idleEtcdRequestsPerSecond, "/s", `<= ${t.idleEtcdRequestsPerSecond}`, verdict(f.idleEtcdRequestsPerSecond, t.idleEtcdRequestsPerSecond)],
    ["gateway CPU at idle", f.gatewayIdleCpuPercent, "%", `<= ${t.gatewayIdleCpuPercent}`, verdict(f.gatewayIdleCpuPercent, t.gatewayIdleCpuPercent)],
    ["gateway RSS per machine at idle", f.gatewayRssKbPerMachine, "KB", `<= ${t.gatewayRssKbPerMachine}`, verdict(f.gatewayRssKbPerMachine, t.gatewayRssKbPerMachine)],
    [`spurious machine losses (${f.soakSeconds ?? "-"} s soak${f.busy ? ", cores saturated" : ""})`, f.spuriousLosses, "", "0", verdict(f.spuriousLosses, 0)],
    ["  first loss, seconds into the soak", f.firstLossAtSoakSecond, "s", "", ""],
    ["  re-registrations in the soak", f.reRegistrations, "", "0", verdict(f.reRegistrations, 0)],
    ["  units moved in the soak", f.unitsMovedInSoak, "", "0", verdict(f.unitsMovedInSoak, 0)],
    [`failover of ${f.failoverMachines ?? "-"} machines: gone`, f.failoverGoneMs, "ms", "", ""],
    ["  their units placed elsewhere", f.failoverPlacedMs, "ms", "", ""],
    ["  their units launched elsewhere (WatchUnits)", f.failoverLaunchedMs, "ms", "", ""],
    ["  their units active elsewhere", f.failoverActiveMs, "ms", `<= ${t.failoverActiveMs}`, verdict(f.failoverActiveMs, t.failoverActiveMs)],
    [`GET /fleet/v1/units (a page), ${run.reads?.clients ?? "-"} clients`, f.unitsPageRequestsPerSecond, "/s", `>= ${t.unitsPageRequestsPerSecond}`, verdict(f.unitsPageRequestsPerSecond, t.unitsPageRequestsPerSecond, false)],
    ["  p50", f.unitsPageP50Ms, "ms", "", ""],
    ["  p99", f.unitsPageP99Ms, "ms", `<= ${t.unitsPageP99Ms}`, verdict(f.unitsPageP99Ms, t.unitsPageP99Ms)],
    ["  floor: a bare node:http server, the same page", f.unitsPageFloorRequestsPerSecond, "/s", "", ""],
    ["  floor p99", f.unitsPageFloorP99Ms, "ms", "", ""],
    [`fleetctl list-units (${f.units} units)`, f.fleetctlListUnitsMs, "ms", `<= ${t.fleetctlListUnitsMs}`, verdict(f.fleetctlListUnitsMs, t.fleetctlListUnitsMs)],
    [`fleetctl list-machines (${f.machines} machines)`, f.fleetctlListMachinesMs, "ms", `<= ${t.fleetctlListMachinesMs}`, verdict(f.fleetctlListMachinesMs, t.fleetctlListMachinesMs)],
    [`${f.globalUnits ?? "-"} global units: the spread hints asked for`, f.globalSpreadMs, "ms", "", ""],
    ["  half the (unit, machine) pairs active, after the create", f.globalHalfActiveMs, "ms", "", ""],
    ["  all of them active", f.globalActiveMs, "ms", "", ""],
    ["  gateway loop lag meanwhile (max)", f.globalGatewayLoopLagMaxMs, "ms", "", ""],
    ["  gateway CPU meanwhile", f.globalGatewayCpuPercent, "%", "", ""],
    ["  machines lost and registered again meanwhile", f.reRegistrationsWhileGlobalUnitsStarted, "", "", ""],
  ];
  const lines = [`fleet scale bench: ${f.machines} simulated machines, ${f.units} units, agent_ttl ${f.agentTtlSeconds} s, ${f.gateways} gateway(s)${f.busy ? ", --busy" : ""}`, ""];
  lines.push(`${pad("figure", 56)}${pad("measured", 12)}${pad("target", 12)}`);
  for (const [name, v, unit, target, ok] of rows) lines.push(`${pad(name, 56)}${pad(v === null || v === undefined ? "-" : `${v} ${unit}`, 12)}${pad(target, 12)}${ok}`);
  if (run.idle) {
    lines.push("", `${pad("process", 22)}${pad("idle CPU %", 12)}${pad("idle RSS MB", 13)}${run.soak ? "soak CPU %" : ""}`);
    for (const name of Object.keys(run.idle.rssMb)) {
      lines.push(`${pad(name, 22)}${pad(run.idle.cpuPercent[name] ?? "-", 12)}${pad(run.idle.rssMb[name] ?? "-", 13)}${run.soak?.cpuPercent[name] ?? ""}`);
    }
  }
  return lines.join("\n");
}

export function writeResult(dir: string, result: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "scale.json");
  writeFileSync(file, JSON.stringify(result) + "\n");
  return file;
}

// Failover: a share of the machines lose power at once (their agents stop; nothing is
// deregistered). Measured from that moment: all of them gone from ListMachines (polled every
// 200 ms), all their units placed on other machines and launched there (followed on a
// WatchUnits stream of those units, opened before the power loss, as the units phase does),
// and active there (one ListUnitStates of those units confirms it once the stream shows them
// all launched; it is polled every 200 ms if it does not, or without the stream).
import { performance } from "node:perf_hooks";
import { sleep } from "@fleet/launcher";
import type { FleetApi } from "./fleet-api.js";
import { openUnitsWatch } from "./units-watch.js";
import type { Simulators } from "./simulators.js";

const POLL_MS = 200;

/** k ids spread evenly over the list. Pure. */
export function pickVictims(ids: readonly string[], share: number): string[] {
  const k = Math.round(ids.length * share);
  return Array.from({ length: k }, (_, j) => ids[Math.floor((j * ids.length) / k)]!);
}

export interface Failover {
  machines: number;
  units: number;
  goneMs: number | undefined;
  placedElsewhereMs: number | undefined;
  activeElsewhereMs: number | undefined;
  /** When the WatchUnits stream showed them all launched elsewhere (before ListUnitStates confirmed them active). */
  launchedElsewhereMs: number | undefined;
}

interface FailoverContext {
  api: FleetApi;
  simulators: Simulators;
  ids: string[];
  share: number;
  timeoutMs: number;
  log: (m: string) => void;
}

export async function phaseFailover(o: FailoverContext): Promise<Failover | undefined> {
  const victims = new Set(pickVictims(o.ids, o.share));
  if (victims.size === 0) return undefined;
  const before = await o.api.placements();
  const units = [...before].filter(([, m]) => victims.has(m)).map(([n]) => n);
  const watch = await openUnitsWatch(o.api, units, (machineId) => !victims.has(machineId));
  const elsewhere = watch.watched;
  try {
    const notFollowed = watch.failure();
    o.log(`failover: ${victims.size} machines with ${units.length} units lose power${notFollowed ? ` (WatchUnits: ${notFollowed.message}; polling lists)` : ""}`);
    const t0 = performance.now();
    await o.simulators.kill([...victims]);
    const r: Failover = { machines: victims.size, units: units.length, goneMs: undefined, placedElsewhereMs: undefined, activeElsewhereMs: undefined, launchedElsewhereMs: undefined };
    const deadline = t0 + o.timeoutMs;
    let last = "";
    while (r.goneMs === undefined || r.placedElsewhereMs === undefined || r.activeElsewhereMs === undefined) {
      const following = watch.failure() === undefined;
      const launched = following && elsewhere.launched === elsewhere.all;
      if (launched) r.launchedElsewhereMs ??= performance.now() - t0;
      const [machines, placements, states] = await Promise.all([
        r.goneMs === undefined ? o.api.machineIds() : undefined,
        r.placedElsewhereMs === undefined && !following ? o.api.placements() : undefined,
        r.activeElsewhereMs === undefined && (launched || !following) ? o.api.states(units) : undefined,
      ]);
      const at = performance.now() - t0;
      if (machines) {
        const left = [...victims].filter((id) => machines.ids.has(id)).length;
        if (left === 0) r.goneMs = at;
        last = `${left} still listed`;
      }
      if (r.placedElsewhereMs === undefined) {
        const left = placements ? units.filter((n) => !placements.get(n) || victims.has(placements.get(n)!)).length : elsewhere.all - elsewhere.placed;
        if (left === 0) r.placedElsewhereMs = at;
        last += `, ${left} not placed elsewhere`;
      }
      if (states) {
        const ok = new Set(states.filter((s) => s.activeState === "active" && !victims.has(s.machineId)).map((s) => s.name));
        const left = units.filter((n) => !ok.has(n)).length;
        if (left === 0) r.activeElsewhereMs = at;
        last += `, ${left} not active elsewhere`;
      } else if (r.activeElsewhereMs === undefined) last += `, ${elsewhere.all - elsewhere.launched} not launched elsewhere`;
      if (performance.now() > deadline) throw new Error(`failover: after ${o.timeoutMs} ms: ${last}`);
      if (r.goneMs === undefined || !following || (launched && r.activeElsewhereMs === undefined)) await sleep(POLL_MS);
      else await sleep(20);
    }
    o.log(`failover: gone ${Math.round(r.goneMs)} ms, placed elsewhere ${Math.round(r.placedElsewhereMs)} ms, active elsewhere ${Math.round(r.activeElsewhereMs)} ms${r.launchedElsewhereMs === undefined ? "" : ` (launched, as WatchUnits showed, at ${Math.round(r.launchedElsewhereMs)} ms)`}`);
    return r;
  } finally {
    watch.cancel();
  }
}

// Failover: a share of the machines lose power at once (their agents stop; nothing is
// deregistered). Measured from that moment: all of them gone from ListMachines, all their
// units placed on other machines, all those units active on other machines.
import { performance } from "node:perf_hooks";
import { sleep } from "@fleet/launcher";
import type { FleetApi } from "./fleet-api.js";
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
}

export async function phaseFailover(o: { api: FleetApi; simulators: Simulators; ids: string[]; share: number; timeoutMs: number; log: (m: string) => void }): Promise<Failover | undefined> {
  const victims = new Set(pickVictims(o.ids, o.share));
  if (victims.size === 0) return undefined;
  const before = await o.api.placements();
  const units = [...before].filter(([, m]) => victims.has(m)).map(([n]) => n);
  o.log(`failover: ${victims.size} machines with ${units.length} units lose power`);
  const t0 = performance.now();
  await o.simulators.kill([...victims]);
  const r: Failover = { machines: victims.size, units: units.length, goneMs: undefined, placedElsewhereMs: undefined, activeElsewhereMs: undefined };
  const deadline = t0 + o.timeoutMs;
  let last = "";
  while (r.goneMs === undefined || r.placedElsewhereMs === undefined || r.activeElsewhereMs === undefined) {
    const [machines, placements, states] = await Promise.all([
      r.goneMs === undefined ? o.api.machineIds() : undefined,
      r.placedElsewhereMs === undefined ? o.api.placements() : undefined,
      r.activeElsewhereMs === undefined ? o.api.states() : undefined,
    ]);
    const at = performance.now() - t0;
    if (machines) {
      const left = [...victims].filter((id) => machines.ids.has(id)).length;
      if (left === 0) r.goneMs = at;
      last = `${left} still listed`;
    }
    if (placements) {
      const left = units.filter((n) => !placements.get(n) || victims.has(placements.get(n)!)).length;
      if (left === 0) r.placedElsewhereMs = at;
      last += `, ${left} not placed elsewhere`;
    }
    if (states) {
      const ok = new Set(states.filter((s) => s.activeState === "active" && !victims.has(s.machineId)).map((s) => s.name));
      const left = units.filter((n) => !ok.has(n)).length;
      if (left === 0) r.activeElsewhereMs = at;
      last += `, ${left} not active elsewhere`;
    }
    if (performance.now() > deadline) throw new Error(`failover: after ${o.timeoutMs} ms: ${last}`);
    await sleep(POLL_MS);
  }
  o.log(`failover: gone ${Math.round(r.goneMs)} ms, placed elsewhere ${Math.round(r.placedElsewhereMs)} ms, active elsewhere ${Math.round(r.activeElsewhereMs)} ms`);
  return r;
}

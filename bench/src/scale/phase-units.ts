// Units: created through the api (CreateUnits, batches of 1000, one request after another),
// then the api is polled until every unit is placed (ListUnits names a machine) and active
// (ListUnitStates reports activeState=active). Times count from the last create's return.
import { performance } from "node:perf_hooks";
import { sleep } from "@fleet/launcher";
import type { UnitState } from "@fleet/wire";
import { CREATE_BATCH, type FleetApi } from "./fleet-api.js";

const POLL_MS = 200;

/** How many of `names` are placed, and active on some machine. Pure. */
export function progress(names: readonly string[], placements: Map<string, string> | undefined, states: UnitState[] | undefined): { placed: number; active: number } {
  let placed = 0;
  if (placements) for (const n of names) if (placements.get(n)) placed++;
  const active = new Set<string>();
  if (states) for (const s of states) if (s.activeState === "active") active.add(s.name);
  let activeCount = 0;
  for (const n of names) if (active.has(n)) activeCount++;
  return { placed, active: activeCount };
}

export interface UnitsPhase {
  createMs: number;
  placedMs: number | undefined;
  activeMs: number | undefined;
  polls: number;
  pollMs: number;
}

export async function phaseUnits(api: FleetApi, names: string[], { timeoutMs, log }: { timeoutMs: number; log: (m: string) => void }): Promise<UnitsPhase> {
  const t0 = performance.now();
  await api.createUnits(names);
  const tLast = performance.now();
  const createMs = tLast - t0;
  log(`created ${names.length} units in ${Math.ceil(names.length / CREATE_BATCH)} CreateUnits requests in ${Math.round(createMs)} ms`);
  let placedMs: number | undefined;
  let activeMs: number | undefined;
  const last = { placed: 0, active: 0 };
  const deadline = tLast + timeoutMs;
  let polls = 0;
  while (placedMs === undefined || activeMs === undefined) {
    const [placements, states] = await Promise.all([placedMs === undefined ? api.placements() : undefined, activeMs === undefined ? api.states() : undefined]);
    polls++;
    const at = performance.now() - tLast;
    const p = progress(names, placements, states);
    if (placedMs === undefined) last.placed = p.placed;
    if (activeMs === undefined) last.active = p.active;
    if (placedMs === undefined && p.placed === names.length) {
      placedMs = at;
      log(`all ${names.length} placed ${Math.round(at)} ms after the last create`);
    }
    if (activeMs === undefined && p.active === names.length) {
      activeMs = at;
      log(`all ${names.length} active ${Math.round(at)} ms after the last create`);
    }
    if (performance.now() > deadline) {
      throw new Error(`units: after ${timeoutMs} ms, ${last.placed} of ${names.length} placed and ${last.active} active`);
    }
    if (polls % 25 === 0) log(`units: ${last.placed} placed, ${last.active} active (${Math.round(at)} ms)`);
    await sleep(POLL_MS);
  }
  return { createMs, placedMs, activeMs, polls, pollMs: POLL_MS };
}

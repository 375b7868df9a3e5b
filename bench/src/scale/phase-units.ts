// Units: created through the api (CreateUnits, batches of 1000, one request after another).
// Progress is followed on a WatchUnits stream opened before the first create: the api pushes
// each unit's placement and the state its machine reports as they change, so the bench learns
// of them without polling lists of 10,000 units (which would load the api and the gateway it
// measures). Once the stream says every unit is placed and launched, ListUnitStates must
// confirm that every one is active (activeState=active): "all active" is the moment that answer
// arrives. Without the stream (it failed), the api is polled every 200 ms instead. Times count
// from the last create's return.
import { performance } from "node:perf_hooks";
import { sleep } from "@fleet/launcher";
import type { UnitState } from "@fleet/wire";
import { CREATE_BATCH, type FleetApi } from "./fleet-api.js";
import { openUnitsWatch, type WatchedUnits } from "./units-watch.js";

const POLL_MS = 200;
const WATCH_CHECK_MS = 50;

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
  /** When WatchUnits showed every unit launched (before ListUnitStates confirmed them active). */
  launchedMs: number | undefined;
  /** "watch" (WatchUnits, then one confirming list) or "poll" (lists every 200 ms). */
  followedBy: "watch" | "poll";
  polls: number;
  pollMs: number;
}

interface PhaseContext {
  timeoutMs: number;
  log: (m: string) => void;
}

export async function phaseUnits(api: FleetApi, names: string[], ctx: PhaseContext): Promise<UnitsPhase> {
  const watch = await openUnitsWatch(api, names);
  try {
    const notFollowed = watch.failure();
    if (notFollowed) ctx.log(`units: WatchUnits gave nothing (${notFollowed.message}); polling lists instead`);
    const t0 = performance.now();
    await api.createUnits(names);
    const tLast = performance.now();
    const createMs = tLast - t0;
    ctx.log(`created ${names.length} units in ${Math.ceil(names.length / CREATE_BATCH)} CreateUnits requests in ${Math.round(createMs)} ms`);
    const phase: UnitsPhase = { createMs, placedMs: undefined, activeMs: undefined, launchedMs: undefined, followedBy: "watch", polls: 0, pollMs: POLL_MS };
    if (!notFollowed) await followWatch(watch.watched, watch.failure, tLast, phase, ctx);
    if (phase.placedMs === undefined || phase.launchedMs === undefined) phase.followedBy = "poll";
    await pollUntilActive(api, names, tLast, phase, ctx);
    return phase;
  } finally {
    watch.cancel();
  }
}

/** Until the watch shows every unit placed and launched, or fails. */
async function followWatch(watched: WatchedUnits, failed: () => Error | undefined, tLast: number, phase: UnitsPhase, ctx: PhaseContext): Promise<void> {
  let lastLog = performance.now();
  while (phase.launchedMs === undefined) {
    const at = performance.now() - tLast;
    if (phase.placedMs === undefined && watched.placed === watched.all) {
      phase.placedMs = at;
      ctx.log(`all ${watched.all} placed ${Math.round(at)} ms after the last create (WatchUnits)`);
    }
    if (phase.placedMs !== undefined && watched.launched === watched.all) {
      phase.launchedMs = at;
      ctx.log(`all ${watched.all} launched ${Math.round(at)} ms after the last create (WatchUnits); confirming with ListUnitStates`);
      return;
    }
    const err = failed();
    if (err !== undefined) {
      ctx.log(`units: WatchUnits failed (${err.message}) at ${watched.placed} placed, ${watched.launched} launched; polling lists instead`);
      return;
    }
    if (at > ctx.timeoutMs) throw new Error(`units: after ${ctx.timeoutMs} ms, ${watched.placed} of ${watched.all} placed and ${watched.launched} launched`);
    if (performance.now() - lastLog > 5_000) {
      lastLog = performance.now();
      ctx.log(`units: ${watched.placed} placed, ${watched.launched} launched (${Math.round(at)} ms)`);
    }
    await sleep(WATCH_CHECK_MS);
  }
}

/** Lists placements (while the watch has not shown them all placed) and states until every unit is active. */
async function pollUntilActive(api: FleetApi, names: string[], tLast: number, phase: UnitsPhase, ctx: PhaseContext): Promise<void> {
  const last = { placed: 0, active: 0 };
  const deadline = tLast + ctx.timeoutMs;
  while (phase.placedMs === undefined || phase.activeMs === undefined) {
    const [placements, states] = await Promise.all([phase.placedMs === undefined ? api.placements() : undefined, api.states()]);
    phase.polls++;
    const at = performance.now() - tLast;
    const p = progress(names, placements, states);
    if (phase.placedMs === undefined) last.placed = p.placed;
    last.active = p.active;
    if (phase.placedMs === undefined && p.placed === names.length) {
      phase.placedMs = at;
      ctx.log(`all ${names.length} placed ${Math.round(at)} ms after the last create`);
    }
    if (p.active === names.length) {
      phase.activeMs = at;
      ctx.log(`all ${names.length} active ${Math.round(at)} ms after the last create`);
    }
    if (performance.now() > deadline) {
      throw new Error(`units: after ${ctx.timeoutMs} ms, ${last.placed} of ${names.length} placed and ${last.active} active`);
    }
    if (phase.polls % 25 === 0) ctx.log(`units: ${last.placed} placed, ${last.active} active (${Math.round(at)} ms)`);
    if (phase.activeMs === undefined) await sleep(POLL_MS);
  }
}

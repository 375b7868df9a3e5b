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
import { TargetState, type UnitState, type UnitView } from "@fleet/wire";
import { CREATE_BATCH, type FleetApi } from "./fleet-api.js";

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

/** Units as WatchUnits shows them: how many are placed, and launched, on a machine `counts`
 * accepts (any machine by default). Pure. */
export class WatchedUnits {
  private readonly placedOn = new Map<string, boolean>();
  private readonly launchedNow = new Map<string, boolean>();
  placed = 0;
  launched = 0;

  constructor(
    private readonly names: ReadonlySet<string>,
    private readonly counts: (machineId: string) => boolean = () => true,
  ) {}

  apply(views: readonly UnitView[]): void {
    for (const v of views) {
      const name = v.unit?.name;
      if (name === undefined || !this.names.has(name)) continue;
      const placed = v.machineId !== "" && this.counts(v.machineId);
      this.placed += count(this.placedOn, name, placed);
      this.launched += count(this.launchedNow, name, placed && v.currentState === TargetState.TARGET_STATE_LAUNCHED);
    }
  }

  get all(): number {
    return this.names.size;
  }
}

/** Sets name's flag; the change to the count (-1, 0, 1). */
function count(flags: Map<string, boolean>, name: string, now: boolean): number {
  const was = flags.get(name) ?? false;
  flags.set(name, now);
  return now === was ? 0 : now ? 1 : -1;
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
  const watched = new WatchedUnits(new Set(names));
  let watchFailed: Error | undefined;
  let opened = false;
  const watch = api.watchUnits(
    (views) => {
      opened = true;
      watched.apply(views);
    },
    (err) => {
      watchFailed = err;
    },
  );
  try {
    const tOpen = performance.now();
    while (!opened && watchFailed === undefined && performance.now() - tOpen < 30_000) await sleep(WATCH_CHECK_MS);
    if (!opened) ctx.log(`units: WatchUnits gave nothing (${watchFailed?.message ?? "no first message in 30 s"}); polling lists instead`);

    const t0 = performance.now();
    await api.createUnits(names);
    const tLast = performance.now();
    const createMs = tLast - t0;
    ctx.log(`created ${names.length} units in ${Math.ceil(names.length / CREATE_BATCH)} CreateUnits requests in ${Math.round(createMs)} ms`);
    const phase: UnitsPhase = { createMs, placedMs: undefined, activeMs: undefined, launchedMs: undefined, followedBy: "watch", polls: 0, pollMs: POLL_MS };
    if (opened) await followWatch(watched, () => watchFailed, tLast, phase, ctx);
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

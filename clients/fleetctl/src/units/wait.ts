// Blocking until units reach a state, as fleetctl does after start/stop/load/unload.
//
// fleet 1.0 checks each unit every 250 ms, and one --block-attempts attempt lasts up to 2 s
// (its waitForState with defaultSleepTime), so --block-attempts=N gives up after N x 2 s. We
// poll every 5 ms for the first second (a start usually converges in under 100 ms; 25 ms when
// a poll reads all units), then every 50 ms, so a command returns as soon as the cluster has
// converged, and keep fleet's time budget: N attempts = N x 2 s (0 = no limit). stdout gets
// exactly fleet's lines; while a wait drags on, a progress line on stderr says what the unit
// is waiting for.
import { isGlobalUnit, type Machine, type TargetState } from "@fleet/domain";
import { debug, errorMessage, say, warn, type CommandContext } from "../context/context.js";
import type { FleetApi, UnitView, UnitWatch } from "../api/fleet-api.js";
import { machineFullLegend, machineIdLegend } from "../output/legend.js";

export const POLL_INTERVAL_MS = 50;
export const FAST_POLL_INTERVAL_MS = 5;
export const FAST_POLL_FOR_MS = 1_000;
export const FAST_LIST_POLL_INTERVAL_MS = 25;

/** How long to wait before the next poll, `elapsed` ms into a wait for `units` units: reading
 * a few units is cheap, so their first second is polled often; reading all units is not. */
export function pollInterval(elapsed: number, units = 1): number {
  if (units > LIST_ALL_ABOVE) return elapsed < FAST_POLL_FOR_MS ? FAST_LIST_POLL_INTERVAL_MS : POLL_INTERVAL_MS;
  return elapsed < FAST_POLL_FOR_MS ? FAST_POLL_INTERVAL_MS : POLL_INTERVAL_MS;
}
/** fleet 1.0's defaultSleepTime: how long one --block-attempts attempt lasts (pre-1.0 fleet: 500 ms). */
export const ATTEMPT_MS = 2_000;
export const PROGRESS_AFTER_MS = 10_000;
export const PROGRESS_EVERY_MS = 10_000;

/**
 * Whether the unit is where the command wants it: its machine reports the target state and,
 * unless the target is inactive, it is placed on a machine. Global units have no single
 * current state, so, as in fleet, their desired state is what counts.
 */
export function hasReached(view: UnitView, target: TargetState): boolean {
  if (isGlobalUnit(view.unit.options)) return view.unit.desiredState === target;
  if (view.currentState !== target) return false;
  return target === "inactive" || view.machineId !== "";
}

/** fleet's line for a unit that got there: "Unit hello.service launched on 113f16a7.../10.0.0.3". */
export function reachedMessage(view: UnitView, machine: Machine | undefined): string {
  const msg = `Unit ${view.unit.name} ${view.currentState}`;
  return view.machineId !== "" && machine ? `${msg} on ${machineFullLegend(machine, false)}` : msg;
}

/** The stderr line while waiting: what the unit is doing, and why it is not placed if it is not. */
export function progressMessage(name: string, target: TargetState, view: UnitView | undefined, machine: Machine | undefined): string {
  const head = `Waiting for unit ${name} to be ${target}`;
  if (!view) return `${head}: unit not found`;
  const where =
    view.machineId === ""
      ? view.reason
        ? `not scheduled: ${view.reason}`
        : "not scheduled yet"
      : `on ${machine ? machineFullLegend(machine, false) : machineIdLegend({ id: view.machineId }, false)}`;
  return `${head}: currently ${view.currentState}, ${where}`;
}

/** How long N attempts may take; undefined means no limit. */
export function waitBudgetMs(maxAttempts: number): number | undefined {
  return maxAttempts > 0 ? maxAttempts * ATTEMPT_MS : undefined;
}

/** Above this many units a poll reads every unit in one request rather than each unit in its own. */
export const LIST_ALL_ABOVE = 8;

/** The units' views, in order; a unit that could not be read keeps its last view. */
async function readUnits(ctx: CommandContext, names: readonly string[], last: ReadonlyMap<string, UnitView | undefined>): Promise<Array<UnitView | undefined>> {
  if (names.length > LIST_ALL_ABOVE) {
    try {
      const byName = new Map((await ctx.api.listUnits()).map((v) => [v.unit.name, v]));
      return names.map((name) => byName.get(name));
    } catch (err) {
      debug(ctx, `error retrieving units: ${errorMessage(err)}`);
      return names.map((name) => last.get(name));
    }
  }
  return Promise.all(
    names.map(async (name) => {
      try {
        return await ctx.api.getUnit(name);
      } catch (err) {
        debug(ctx, `error retrieving unit ${name}: ${errorMessage(err)}`);
        return last.get(name);
      }
    }),
  );
}

/** While watching, how often the wait looks at its time budget and progress lines. */
export const WATCH_TICK_MS = 250;

/**
 * The units' views pushed by the API (watchUnits), where it has them: a wait then learns of a
 * change as it is committed instead of on its next poll. Until the first message, and after the
 * stream ends or fails, it is not usable and the wait polls.
 */
class UnitWatcher {
  readonly latest = new Map<string, UnitView | undefined>();
  private received = false;
  private ended = false;
  private changed = false;
  private wake: (() => void) | undefined;
  private readonly handle: UnitWatch;
  /** Settles with the first message, or when the stream ends or fails before one. */
  readonly ready: Promise<void>;

  constructor(ctx: CommandContext, watch: NonNullable<FleetApi["watchUnits"]>, names: readonly string[]) {
    let first: () => void = () => {};
    this.ready = new Promise((resolve) => (first = resolve));
    this.handle = watch(names, (views) => {
      for (const [name, view] of views) this.latest.set(name, view);
      this.received = true;
      this.changed = true;
      first();
      this.wake?.();
    });
    this.handle.done.then(
      () => this.end(first),
      (err: unknown) => {
        debug(ctx, `watching units failed (${errorMessage(err)}); polling`);
        this.end(first);
      },
    );
  }

  private end(first: () => void): void {
    this.ended = true;
    first();
    this.wake?.();
  }

  get usable(): boolean {
    return this.received && !this.ended;
  }

  /** Resolves on the next change (at once if one came since the last call), or after tickMs. */
  async next(ctx: CommandContext, tickMs: number): Promise<void> {
    if (!this.changed) await Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), ctx.clock.sleep(tickMs)]);
    this.wake = undefined;
    this.changed = false;
  }

  cancel(): void {
    this.ended = true;
    this.handle.cancel();
  }
}

/**
 * Waits until each unit reached `target`, printing fleet's line for each as it does, from the
 * API's watch of the units where it has one, else by polling. Returns the errors (timeouts),
 * empty when every unit got there.
 */
export async function waitForUnitStates(
  ctx: CommandContext,
  names: readonly string[],
  target: TargetState,
  maxAttempts: number,
): Promise<string[]> {
  const pending = [...new Set(names)];
  const start = ctx.clock.now();
  const budget = waitBudgetMs(maxAttempts);
  let nextProgress = start + PROGRESS_AFTER_MS;
  const last = new Map<string, UnitView | undefined>();
  if (pending.length === 0) return [];
  // Each unit's line names its machine: read the machines while the units converge.
  if (target !== "inactive") ctx.machines.prefetch();
  const watcher = ctx.api.watchUnits ? new UnitWatcher(ctx, ctx.api.watchUnits.bind(ctx.api), pending) : undefined;
  try {
    await watcher?.ready;
    while (pending.length > 0) {
      const views = watcher?.usable ? pending.map((name) => (watcher.latest.has(name) ? watcher.latest.get(name) : last.get(name))) : await readUnits(ctx, pending, last);
      for (const [i, view] of [...views.entries()].reverse()) {
        const name = pending[i] ?? "";
        last.set(name, view);
        if (view && hasReached(view, target)) pending.splice(i, 1);
      }
      // Print in argument order among the units that got there in this round.
      for (const view of views) {
        if (view && hasReached(view, target) && !pending.includes(view.unit.name)) {
          const machine = view.machineId ? await ctx.machines.lookup(view.machineId) : undefined;
          say(ctx, reachedMessage(view, machine));
        }
      }
      if (pending.length === 0) break;

      const now = ctx.clock.now();
      if (budget !== undefined && now - start >= budget) {
        return pending.map((name) => `timed out waiting for unit ${name} to report state ${target}`);
      }
      if (now >= nextProgress) {
        for (const name of pending) {
          const view = last.get(name);
          const machine = view?.machineId ? await ctx.machines.lookup(view.machineId) : undefined;
          warn(ctx, progressMessage(name, target, view, machine));
        }
        nextProgress = now + PROGRESS_EVERY_MS;
      }
      if (watcher?.usable) await watcher.next(ctx, WATCH_TICK_MS);
      else await ctx.clock.sleep(pollInterval(now - start, pending.length));
    }
    return [];
  } finally {
    watcher?.cancel();
  }
}

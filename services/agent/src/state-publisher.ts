// The agent's unit states, sent to the registry in batches:
//
//   changed(name, urgency) ─> dirty ─┐  after 0 / 5 / 100 ms (the earliest wins)
//   removed(name)          ─> gone  ─┴─> flush: stateOf(each dirty unit), minus what the
//                                        registry already holds ─> report(lease, states, gone)
//
// A burst of signals becomes one write; a state equal to the one last reported is not sent
// again (until the lease changes: resendAll); a failed report keeps its changes and is retried
// a second later.
import type { MonotonicClock, UnitState } from "@fleet/domain";
import { unitNameError } from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import type { Urgency } from "./unit-watcher.js";

/** How long state changes gather before one report: a burst of signals becomes one write. */
export const REPORT_DELAY_MS = 5;
/** The same while the unit's start job runs: its end reports at once (a slow start still shows
 * its progress, e.g. activating, after this long). */
export const STARTING_REPORT_DELAY_MS = 100;
/** A failed report is tried again after this long. */
export const REPORT_RETRY_MS = 1000;

const DELAY_MS: Record<Urgency, number> = { now: 0, batch: REPORT_DELAY_MS, starting: STARTING_REPORT_DELAY_MS };

export interface PublisherSource {
  /** The lease reports go under; none: nothing is sent (the changes wait). */
  leaseId(): string | undefined;
  /** What the registry should hold for the unit now; undefined: nothing. */
  stateOf(name: string): UnitState | undefined;
}

export type ReportFn = (leaseId: string, states: UnitState[], removed: string[]) => Promise<void>;

export class StatePublisher {
  private readonly dirty = new Set<string>();
  private readonly gone = new Set<string>();
  /** What the registry holds for each unit, as last reported: unchanged states are not resent. */
  private readonly reported = new Map<string, string>();
  private timer: unknown;
  private due = 0;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: PublisherSource,
    private readonly report: ReportFn,
    private readonly clock: MonotonicClock,
    private readonly log: Logger,
  ) {}

  /** The unit's state may have changed: reported after the urgency's delay. */
  changed(name: string, urgency: Urgency = "batch"): void {
    this.dirty.add(name);
    this.schedule(DELAY_MS[urgency]);
  }

  /** Every one of these units is looked at in the next batch (unchanged ones are not sent). */
  changedAll(names: Iterable<string>): void {
    for (const name of names) this.dirty.add(name);
    this.schedule(REPORT_DELAY_MS);
  }

  /** The unit is no longer the agent's: its state is removed from the registry. */
  removed(name: string): void {
    this.dirty.delete(name);
    this.gone.add(name);
  }

  /** The unit is the agent's again before its removal was sent. */
  kept(name: string): void {
    this.gone.delete(name);
  }

  /** A new lease holds no states: everything is sent again. */
  resendAll(): void {
    this.reported.clear();
  }

  /** Resolves once the reports already started are done. */
  idle(): Promise<void> {
    return this.flushing;
  }

  /** Flushes after `delayMs` (the changes meanwhile join the same report); the earliest wins. */
  private schedule(delayMs: number): void {
    const due = this.clock.now() + delayMs;
    if (this.timer !== undefined && this.due <= due) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.due = due;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, delayMs);
  }

  /** Sends the batched state changes; on failure keeps them for a later flush. */
  private async flush(): Promise<void> {
    const leaseId = this.source.leaseId();
    if (!leaseId || (this.dirty.size === 0 && this.gone.size === 0)) return;
    const states: UnitState[] = [];
    for (const name of this.dirty) {
      // The registry refuses a report that names an invalid unit: such a unit is only logged.
      if (unitNameError(name)) continue;
      const state = this.source.stateOf(name);
      if (!state) continue;
      const key = JSON.stringify(state);
      if (this.reported.get(name) === key) continue;
      this.reported.set(name, key);
      states.push(state);
    }
    const removed = [...this.gone];
    for (const r of removed) this.reported.delete(r);
    this.dirty.clear();
    if (states.length === 0 && removed.length === 0) return;
    this.gone.clear();
    try {
      await this.report(leaseId, states, removed);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, units: states.length, removed: removed.length }, "state report failed; will retry");
      for (const s of states) {
        this.reported.delete(s.name);
        this.dirty.add(s.name);
      }
      for (const r of removed) this.gone.add(r);
      this.clock.setTimeout(() => this.schedule(REPORT_DELAY_MS), REPORT_RETRY_MS);
    }
  }
}

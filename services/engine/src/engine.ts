// One reconcile round of the leader: decide (pure) -> fenced writes.
//
// The decision comes from the cluster replica (the gateway's WatchCluster stream held as an
// IncrementalScheduler): it costs what changed since the last round. While the replica is not
// synced (stream down, re-syncing) the round falls back to a full snapshot and decideSchedule,
// which returns the same changes, so a broken stream slows rounds but never stops them.
import { decideSchedule, type ClusterSnapshot, type Placement } from "@fleet/domain";
import { isFleetError, type Logger } from "@fleet/wire";
import type { Leadership, Term } from "./leadership.js";

export interface SchedulePlanner {
  /** The newest revision this engine has heard of (its writes, hints): decisions must reflect it. */
  readonly minRevision: number;
  snapshot(): Promise<ClusterSnapshot>;
  /** Writes placements fenced by the term; resolves with the revision they committed at. */
  apply(candidateId: string, term: Term, placements: readonly Placement[]): Promise<number>;
}

/** What the engine needs of its replica (ClusterReplica). */
export interface ScheduleSource {
  decide(): { changes: Placement[]; kept: number; tried: number } | undefined;
  wrote(changes: readonly Placement[]): void;
  /** True once the replica reflects `revision` (false: not within timeoutMs, or not synced). */
  waitFor(revision: number, timeoutMs: number): Promise<boolean>;
  resync(reason: string): void;
}

/** How long a round waits for the stream to bring a revision a hint announced. */
export const CATCH_UP_MS = 2000;

export class Engine {
  constructor(
    private readonly planner: SchedulePlanner,
    private readonly replica: ScheduleSource,
    private readonly leadership: Leadership,
    private readonly log: Logger,
  ) {}

  async reconcile(trigger: string): Promise<void> {
    const term = this.leadership.current();
    if (!term) return;
    const started = performance.now();
    const wanted = this.planner.minRevision;
    const caughtUp = await this.replica.waitFor(wanted, CATCH_UP_MS);
    if (!caughtUp && this.leadership.current() !== undefined) this.replica.resync(`replica did not reach revision ${wanted}`);
    if (this.leadership.current() !== term) return;
    const decided = caughtUp ? this.replica.decide() : undefined;
    const changes = decided?.changes ?? decideSchedule(await this.planner.snapshot());
    const decidedMs = performance.now() - started;
    if (changes.length === 0) return;
    try {
      await this.planner.apply(this.leadership.candidateId, term, changes);
    } catch (err) {
      if (isFleetError(err, "failed-precondition")) return this.leadership.lost(err.message);
      throw err;
    }
    this.replica.wrote(changes);
    for (const c of changes) {
      if (c.machineId) this.log.info({ unit: c.unitName, machineId: c.machineId, reason: c.reason }, "scheduled unit");
      else if (c.reason) this.log.info({ unit: c.unitName, reason: c.reason }, "unit cannot be placed");
      else this.log.info({ unit: c.unitName }, "unscheduled unit");
    }
    this.log.debug(
      {
        trigger,
        changes: changes.length,
        source: decided ? "replica" : "snapshot",
        kept: decided?.kept,
        tried: decided?.tried,
        decideMs: Math.round(decidedMs * 100) / 100,
        ms: Math.round(performance.now() - started),
      },
      "reconciled",
    );
  }
}

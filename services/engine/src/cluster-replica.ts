// The engine's copy of the cluster, kept from the gateway's WatchCluster stream and held as an
// IncrementalScheduler, so a round costs what changed since the last one:
//
//   connect ──▶ snapshot at revision R ──▶ new IncrementalScheduler ──▶ synced
//                    deltas after R ──▶ scheduler.apply(delta) ──▶ onChange() (a round soon)
//   stream ends or fails ──▶ not synced ──▶ reconnect after a backoff (200 ms doubling to 5 s,
//                    with jitter; reset once a snapshot arrives) ──▶ a fresh snapshot
//
// Every engine keeps one, leader or not, so a new leader decides at once. Beside the scheduler it
// keeps the machines' liveness (machine-liveness.ts): a machine leaving the stream is missing,
// not yet lost, and every fresh snapshot starts a grace period.
import {
  IncrementalScheduler,
  isAtMostOnceUnit,
  MachineLiveness,
  systemClock,
  type Clock,
  type LivenessSettings,
  type Placement,
  type Plan,
  type ScheduleDelta,
} from "@fleet/domain";
import type { Logger } from "@fleet/wire";

/** One message of the stream, in domain terms. */
export interface ClusterEvent {
  readonly revision: number;
  /** The whole cluster: the replica starts over from it. */
  readonly snapshot: boolean;
  readonly delta: ScheduleDelta;
}

export interface ClusterSource {
  /** Opens a stream; `onEnd` is called once when it ends (err undefined: closed by us). Returns the cancel. */
  watch(minRevision: number, onEvent: (event: ClusterEvent) => void, onEnd: (err: Error | undefined) => void): () => void;
}

export interface ReplicaOptions {
  readonly onChange: (what: string) => void;
  readonly liveness: LivenessSettings;
  /** Milliseconds of a monotonic clock (default performance.now). */
  readonly now?: () => number;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export class ClusterReplica {
  private current: IncrementalScheduler | undefined;
  private live = false;
  private cancel: (() => void) | undefined;
  private timer: unknown;
  private stopped = false;
  private backoffMs: number;
  private seen = 0;
  private waiters: Array<{ revision: number; resolve: (ok: boolean) => void }> = [];
  private readonly clock: Clock;
  readonly liveness: MachineLiveness;
  readonly now: () => number;

  constructor(
    private readonly source: ClusterSource,
    private readonly log: Logger,
    private readonly options: ReplicaOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.backoffMs = options.minBackoffMs ?? 200;
    this.liveness = new MachineLiveness(options.liveness);
    this.now = options.now ?? (() => performance.now());
  }

  /** This engine became the leader: machines get a fresh grace period. */
  leadershipGained(): void {
    this.liveness.leadershipGained(this.now());
  }

  /** The machine the unit is placed on, as the replica holds it ("" when none). */
  placedOn(unitName: string): string {
    return this.current?.placedOn(unitName) ?? "";
  }

  isAtMostOnce(unitName: string): boolean {
    const unit = this.current?.unit(unitName);
    return unit !== undefined && isAtMostOnceUnit(unit.options);
  }

  /** True while the stream is open and its snapshot has arrived: decide() reflects the cluster. */
  get synced(): boolean {
    return this.live && this.current !== undefined;
  }

  /** The newest revision the replica reflects. */
  get revision(): number {
    return this.seen;
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.live = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Resolves true once the replica reflects `revision`, false after timeoutMs or when not synced. */
  waitFor(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.synced && this.seen >= revision) return Promise.resolve(true);
    if (!this.synced) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        revision,
        resolve: (ok: boolean) => {
          this.clock.clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(ok);
        },
      };
      const timer = this.clock.setTimeout(() => waiter.resolve(false), timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Drops the stream and starts over from a fresh snapshot (the stream seems stuck). */
  resync(reason: string): void {
    // Only a live stream that lags: one still waiting for its snapshot is left to finish.
    if (this.stopped || !this.live || this.cancel === undefined) return;
    this.log.warn({ reason, revision: this.seen }, "re-syncing the cluster replica");
    const cancel = this.cancel;
    this.cancel = undefined;
    this.live = false;
    cancel();
    this.connect();
  }

  /** The plan the cluster needs now (undefined when not synced). */
  decide(): { plan: Plan; kept: number; tried: number } | undefined {
    if (!this.synced || this.current === undefined) return undefined;
    const plan = this.current.decide();
    return { plan, kept: this.current.lastStats.kept, tried: this.current.lastStats.tried };
  }

  /**
   * Our own placements, committed: applied now rather than when the stream echoes them, so the
   * next round does not write them again. Their revision counts as seen only once the stream
   * brings it (other changes may have committed before it).
   */
  wrote(changes: readonly Placement[]): void {
    this.current?.apply({ placements: changes });
  }

  private connect(): void {
    if (this.stopped) return;
    let ended = false;
    this.cancel = this.source.watch(
      this.seen,
      (event) => {
        if (ended) return;
        if (event.snapshot) {
          this.current = IncrementalScheduler.fromSnapshot({
            units: event.delta.units ?? [],
            placements: event.delta.placements ?? [],
            machines: event.delta.machines ?? [],
          });
          this.liveness.viewStarted(
            this.now(),
            (event.delta.machines ?? []).map((m) => m.id),
            (event.delta.placements ?? []).map((p) => p.machineId).filter((id) => id !== ""),
          );
          this.live = true;
          this.backoffMs = this.options.minBackoffMs ?? 200;
          this.log.info({ revision: event.revision, units: this.current.unitCount }, "cluster replica synced");
        } else if (this.current !== undefined) {
          this.current.apply(event.delta);
          const now = this.now();
          for (const id of event.delta.removedMachines ?? []) this.liveness.machineLeft(now, id);
          for (const m of event.delta.machines ?? []) this.liveness.machineJoined(now, m.id);
        } else return;
        this.seen = Math.max(this.seen, event.revision);
        for (const w of [...this.waiters]) if (w.revision <= this.seen) w.resolve(true);
        // A revision-only message (a batch the replica holds nothing of) wakes only the waiters.
        if (!event.snapshot && isEmptyDelta(event.delta)) return;
        this.options.onChange(event.snapshot ? "cluster snapshot" : "cluster change");
      },
      (err) => {
        if (ended) return;
        ended = true;
        this.live = false;
        this.cancel = undefined;
        for (const w of [...this.waiters]) w.resolve(false);
        if (this.stopped) return;
        const delay = Math.round(this.backoffMs * (0.5 + (this.options.random ?? Math.random)()));
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5000);
        this.log.warn({ err: err?.message ?? "stream closed", retryMs: delay }, "cluster watch ended; re-syncing");
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined;
          this.connect();
        }, delay);
      },
    );
  }
}

function isEmptyDelta(d: ScheduleDelta): boolean {
  return !d.units?.length && !d.removedUnits?.length && !d.machines?.length && !d.removedMachines?.length && !d.placements?.length && !d.removedPlacements?.length;
}

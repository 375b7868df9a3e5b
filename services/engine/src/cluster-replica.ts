// The engine's copy of the cluster, kept from the gateway's WatchCluster stream (followed by
// @fleet/wire's FeedFollower: snapshot, deltas, re-sync after a backoff when the stream ends) and
// held as an IncrementalScheduler, so a round costs what changed since the last one:
//
//   snapshot at revision R ──▶ new IncrementalScheduler ──▶ synced
//   deltas after R ──▶ scheduler.apply(delta) ──▶ onChange() (a round soon)
//
// Every engine keeps one, leader or not, so a new leader decides at once. Beside the scheduler it
// keeps the machines' liveness (machine-liveness.ts): a machine leaving the stream is missing,
// not yet lost, and every fresh snapshot starts a grace period.
import {
  IncrementalScheduler,
  isAtMostOnceUnit,
  MachineLiveness,
  type Clock,
  type LivenessSettings,
  type Placement,
  type Plan,
  type ScheduleDelta,
} from "@fleet/domain";
import { FeedFollower, type FeedSource, type Logger } from "@fleet/wire";

/** One message of the stream, in domain terms. */
export interface ClusterEvent {
  readonly revision: number;
  /** The whole cluster: the replica starts over from it. */
  readonly snapshot: boolean;
  readonly delta: ScheduleDelta;
  /** The requests whose writes made this change, when the gateway knows them. */
  readonly requestIds?: readonly string[];
}

export type ClusterSource = FeedSource<ClusterEvent>;

export interface ReplicaOptions {
  readonly onChange: (what: string, requestIds: readonly string[]) => void;
  readonly liveness: LivenessSettings;
  /** Milliseconds of a monotonic clock (default performance.now). */
  readonly now?: () => number;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** How many units' last writers the replica remembers (the oldest go first). */
const UNIT_REQUESTS_KEPT = 4096;

export class ClusterReplica {
  private current: IncrementalScheduler | undefined;
  /** The request that last wrote each unit, as the stream named it (bounded). */
  private readonly unitRequests = new Map<string, string>();
  private readonly follower: FeedFollower<ClusterEvent>;
  readonly liveness: MachineLiveness;
  readonly now: () => number;

  constructor(
    source: ClusterSource,
    private readonly log: Logger,
    options: ReplicaOptions,
  ) {
    this.liveness = new MachineLiveness(options.liveness);
    this.now = options.now ?? (() => performance.now());
    this.follower = new FeedFollower(source, log, (event) => this.applyEvent(event), {
      what: "cluster replica",
      applied: (event) => {
        // A revision-only message (a batch the replica holds nothing of) asks for no round.
        if (event.snapshot || !isEmptyDelta(event.delta)) options.onChange(event.snapshot ? "cluster snapshot" : "cluster change", event.requestIds ?? []);
      },
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.minBackoffMs !== undefined ? { minBackoffMs: options.minBackoffMs } : {}),
      ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
    });
  }

  /** This engine became the leader: machines get a fresh grace period. */
  leadershipGained(): void {
    this.liveness.leadershipGained(this.now());
  }

  /** The request that last created or replaced the unit, when the stream named it. */
  requestOf(unitName: string): string | undefined {
    return this.unitRequests.get(unitName);
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
    return this.follower.synced && this.current !== undefined;
  }

  /** The newest revision the replica reflects. */
  get revision(): number {
    return this.follower.revision;
  }

  start(): void {
    this.follower.start();
  }

  stop(): void {
    this.follower.stop();
  }

  /** Resolves true once the replica reflects `revision`, false after timeoutMs or when not synced. */
  waitFor(revision: number, timeoutMs: number): Promise<boolean> {
    return this.follower.waitFor(revision, timeoutMs);
  }

  /** Drops the stream and starts over from a fresh snapshot (the stream seems stuck). */
  resync(reason: string): void {
    this.follower.resync(reason);
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

  private applyEvent(event: ClusterEvent): void {
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
      this.log.info({ revision: event.revision, units: this.current.unitCount }, "cluster replica loaded");
    } else if (this.current !== undefined) {
      this.current.apply(event.delta);
      this.noteRequests(event);
      const now = this.now();
      for (const id of event.delta.removedMachines ?? []) this.liveness.machineLeft(now, id);
      for (const m of event.delta.machines ?? []) this.liveness.machineJoined(now, m.id);
    }
  }

  private noteRequests(event: ClusterEvent): void {
    for (const name of event.delta.removedUnits ?? []) this.unitRequests.delete(name);
    const requestId = event.requestIds?.[0];
    if (requestId === undefined) return;
    for (const unit of event.delta.units ?? []) {
      this.unitRequests.delete(unit.name);
      this.unitRequests.set(unit.name, requestId);
    }
    for (const oldest of this.unitRequests.keys()) {
      if (this.unitRequests.size <= UNIT_REQUESTS_KEPT) break;
      this.unitRequests.delete(oldest);
    }
  }
}

function isEmptyDelta(d: ScheduleDelta): boolean {
  return !d.units?.length && !d.removedUnits?.length && !d.machines?.length && !d.removedMachines?.length && !d.placements?.length && !d.removedPlacements?.length;
}

// WatchCluster's source: the whole cluster once, then per committed batch of the watch only
// what changed, as one message. Pure apart from the subscribers and the clock it is given: the
// gateway's main feeds it the CacheChange records of each batch (registry-cache.ts), in commit
// order.
//
//   subscribe   snapshot of the cache at its revision, then every later batch; taken in one
//               synchronous step, so no batch falls between the two. A subscriber withStates
//               (the api's read replica) also gets the units' states; the engine does not
//   publish     the batch folded per key (the last event of a key wins) into one delta; a batch
//               that changes nothing a subscriber holds (for the engine: unit states, the engine
//               leader key) is a revision-only message (empty delta), sent at once when none
//               went out in the last revisionIntervalMs, else once that interval is over, with
//               the newest revision by then: a replica reaches every revision hints announce.
//               Subscribers withStates get a batch's states with its delta; states alone are
//               coalesced, at most one message per statesIntervalMs (10,000 units starting are
//               thousands of batches of states), and a revision-only message reaches them only
//               once they have every state up to it
//   endAll      ends every subscriber (the gateway lost etcd: the replicas must re-sync)
import { systemClock, type Clock, type Machine, type Placement, type Unit, type UnitState } from "@fleet/domain";
import type { CacheChange, RegistryCache } from "./registry-cache.js";

export interface ClusterDelta {
  readonly revision: number;
  readonly snapshot: boolean;
  readonly units: Unit[];
  readonly removedUnits: string[];
  readonly placements: Placement[];
  readonly removedPlacements: string[];
  readonly machines: Machine[];
  readonly removedMachines: string[];
  /** Only to subscribers withStates: states reported (all of them in a snapshot), and removed. */
  readonly states?: UnitState[];
  readonly removedStates?: UnitStateKey[];
  /** The requests whose writes made this revision (revision-requests.ts), when known. */
  readonly requestIds?: string[];
}

/** A unit's state on one machine. */
export interface UnitStateKey {
  readonly unitName: string;
  readonly machineId: string;
}

export interface ClusterSubscriber {
  /** Also the units' states (default false). */
  readonly withStates?: boolean;
  send(delta: ClusterDelta): void;
  /** The feed ends this subscription (it will send nothing more). */
  end(reason: string): void;
}

export interface ClusterFeedOptions {
  readonly clock?: Clock & { now(): number };
  /** At most one revision-only message per this many ms (default 50). */
  readonly revisionIntervalMs?: number;
  /** At most one message of states alone per this many ms to subscribers withStates (default 20). */
  readonly statesIntervalMs?: number;
}

const systemClockWithNow = { ...systemClock, now: () => Date.now() };

export class ClusterFeed {
  private readonly subscribers = new Set<ClusterSubscriber>();
  private readonly clock: Clock & { now(): number };
  private readonly intervalMs: number;
  private readonly statesIntervalMs: number;
  /** The newest revision published. */
  private latest = 0;
  /** The newest revision sent to subscribers (deltas and revision-only messages). */
  private sent = 0;
  private lastRevisionOnlyAt = Number.NEGATIVE_INFINITY;
  private pendingRevision = 0;
  private timer: unknown;
  /** States written or removed since the last message to subscribers withStates, by "machine/unit". */
  private readonly pendingStates = new Map<string, UnitStateKey>();
  /** The newest revision subscribers withStates have with every state up to it. */
  private sentStates = 0;
  private lastStatesAt = Number.NEGATIVE_INFINITY;
  private statesTimer: unknown;

  constructor(
    private readonly cache: RegistryCache,
    options: ClusterFeedOptions = {},
  ) {
    this.clock = options.clock ?? systemClockWithNow;
    this.intervalMs = options.revisionIntervalMs ?? 50;
    this.statesIntervalMs = options.statesIntervalMs ?? 20;
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** Sends the snapshot at once, then every batch after it; returns the unsubscribe. */
  subscribe(subscriber: ClusterSubscriber): () => void {
    subscriber.send({
      revision: this.cache.revision,
      snapshot: true,
      units: [...this.cache.sortedUnits()],
      removedUnits: [],
      placements: this.cache.placements(),
      removedPlacements: [],
      machines: this.cache.sortedMachines(),
      removedMachines: [],
      ...(subscriber.withStates ? { states: allStates(this.cache), removedStates: [] } : {}),
    });
    this.sent = Math.max(this.sent, this.cache.revision);
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** One committed batch of the watch (the cache already holds it). */
  publish(changes: readonly CacheChange[], revision: number, requestId?: string): void {
    if (this.subscribers.size === 0) return;
    this.latest = Math.max(this.latest, revision);
    if (this.hasStateSubscribers()) {
      for (const c of changes) if (c.kind === "state") this.pendingStates.set(`${c.machineId}/${c.name}`, { unitName: c.name, machineId: c.machineId });
    }
    const folded = foldChanges(changes, revision);
    const delta = folded && requestId ? { ...folded, requestIds: [requestId] } : folded;
    if (delta !== undefined) {
      // A delta carries its revision: a revision-only message waiting for its turn is stale.
      this.cancelPending();
      this.send(delta);
      return;
    }
    // States alone: to those who hold them at most once per statesIntervalMs, coalesced.
    if (this.pendingStates.size > 0) this.scheduleStates();
    if (revision <= this.sent) return;
    const now = this.clock.now();
    if (this.timer === undefined && now - this.lastRevisionOnlyAt >= this.intervalMs) {
      this.sendRevision(revision, now);
      return;
    }
    this.pendingRevision = Math.max(this.pendingRevision, revision);
    this.timer ??= this.clock.setTimeout(
      () => {
        this.timer = undefined;
        const pending = this.pendingRevision;
        this.pendingRevision = 0;
        if (pending > this.sent && this.subscribers.size > 0) this.sendRevision(pending, this.clock.now());
      },
      Math.max(0, this.lastRevisionOnlyAt + this.intervalMs - now),
    );
  }

  /** Ends every subscription (each hears `reason`); new ones are the caller's to refuse meanwhile. */
  endAll(reason: string): void {
    this.cancelPending();
    this.takeStates();
    const ending = [...this.subscribers];
    this.subscribers.clear();
    for (const s of ending) s.end(reason);
  }

  private hasStateSubscribers(): boolean {
    for (const s of this.subscribers) if (s.withStates) return true;
    return false;
  }

  private sendRevision(revision: number, now: number): void {
    this.lastRevisionOnlyAt = now;
    this.sent = Math.max(this.sent, revision);
    const delta = emptyDelta(revision);
    // Subscribers withStates get a revision only once they have every state up to it.
    const statesUpTo = this.pendingStates.size === 0 && revision > this.sentStates;
    if (statesUpTo) this.sentStates = revision;
    for (const s of [...this.subscribers]) if (!s.withStates || statesUpTo) s.send(delta);
  }

  private send(delta: ClusterDelta): void {
    this.sent = Math.max(this.sent, delta.revision);
    const states = this.takeStates();
    if (states) this.sentStates = Math.max(this.sentStates, delta.revision);
    const withStates = states ? { ...delta, ...states } : delta;
    for (const s of [...this.subscribers]) s.send(s.withStates ? withStates : delta);
  }

  /** Sends the pending states now when none went out within statesIntervalMs, else when that is over. */
  private scheduleStates(): void {
    if (this.statesTimer !== undefined) return;
    const wait = this.lastStatesAt + this.statesIntervalMs - this.clock.now();
    const flush = () => {
      this.statesTimer = undefined;
      const states = this.takeStates();
      if (!states) return;
      this.lastStatesAt = this.clock.now();
      this.sentStates = Math.max(this.sentStates, this.latest);
      const delta = { ...emptyDelta(this.latest), ...states };
      for (const s of [...this.subscribers]) if (s.withStates) s.send(delta);
    };
    if (wait <= 0) flush();
    else this.statesTimer = this.clock.setTimeout(flush, wait);
  }

  /** The pending states as the cache now holds them, cleared (undefined when none). */
  private takeStates(): StateChanges | undefined {
    if (this.statesTimer !== undefined) this.clock.clearTimeout(this.statesTimer);
    this.statesTimer = undefined;
    if (this.pendingStates.size === 0) return undefined;
    const out = statesNow(this.pendingStates.values(), this.cache);
    this.pendingStates.clear();
    return out;
  }

  private cancelPending(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingRevision = 0;
  }
}

function emptyDelta(revision: number): ClusterDelta {
  return { revision, snapshot: false, units: [], removedUnits: [], placements: [], removedPlacements: [], machines: [], removedMachines: [] };
}

/** The batch as one delta (undefined when it concerns no unit, placement or machine). */
export function foldChanges(changes: readonly CacheChange[], revision: number): ClusterDelta | undefined {
  const units = new Map<string, Unit | undefined>();
  const placements = new Map<string, Placement | undefined>();
  const machines = new Map<string, Machine | undefined>();
  for (const c of changes) {
    if (c.kind === "unit") units.set(c.name, c.after);
    else if (c.kind === "schedule") placements.set(c.name, c.after ? { unitName: c.name, machineId: c.after.machineId, reason: c.after.reason } : undefined);
    else if (c.kind === "machine") machines.set(c.id, c.after);
  }
  if (units.size + placements.size + machines.size === 0) return undefined;
  const delta = emptyDelta(revision);
  for (const [name, u] of units) (u ? delta.units.push(u) : delta.removedUnits.push(name));
  for (const [name, p] of placements) (p ? delta.placements.push(p) : delta.removedPlacements.push(name));
  for (const [id, m] of machines) (m ? delta.machines.push(m) : delta.removedMachines.push(id));
  return delta;
}

type StateChanges = Required<Pick<ClusterDelta, "states" | "removedStates">>;

/** Every state the cache holds. */
function allStates(cache: RegistryCache): UnitState[] {
  const out: UnitState[] = [];
  for (const perMachine of cache.states.values()) for (const entry of perMachine.values()) out.push(entry.value);
  return out;
}

/** The states of `keys` as the cache now holds them: present ones, and the keys of removed ones. */
function statesNow(keys: Iterable<UnitStateKey>, cache: RegistryCache): StateChanges {
  const out: StateChanges = { states: [], removedStates: [] };
  for (const key of keys) {
    const state = cache.states.get(key.machineId)?.get(key.unitName)?.value;
    if (state) out.states.push(state);
    else out.removedStates.push(key);
  }
  return out;
}

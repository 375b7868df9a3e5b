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
//               the newest revision by then: a replica reaches every revision hints announce
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
}

const systemClockWithNow = { ...systemClock, now: () => Date.now() };

export class ClusterFeed {
  private readonly subscribers = new Set<ClusterSubscriber>();
  private readonly clock: Clock & { now(): number };
  private readonly intervalMs: number;
  /** The newest revision sent to subscribers (deltas and revision-only messages). */
  private sent = 0;
  /** The newest revision sent with its states to subscribers withStates. */
  private sentStates = 0;
  private lastRevisionOnlyAt = Number.NEGATIVE_INFINITY;
  private pendingRevision = 0;
  private timer: unknown;

  constructor(
    private readonly cache: RegistryCache,
    options: ClusterFeedOptions = {},
  ) {
    this.clock = options.clock ?? systemClockWithNow;
    this.intervalMs = options.revisionIntervalMs ?? 50;
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

  /** One committed batch of the watch. */
  publish(changes: readonly CacheChange[], revision: number): void {
    if (this.subscribers.size === 0) return;
    const delta = foldChanges(changes, revision);
    const states = [...this.subscribers].some((s) => s.withStates) ? foldStates(changes, this.cache) : undefined;
    if (delta !== undefined) {
      // A delta carries its revision: a revision-only message waiting for its turn is stale.
      this.cancelPending();
      this.send(delta, states);
      return;
    }
    // States alone: at once to those who hold them; the others get a revision-only message.
    if (states !== undefined) {
      this.sentStates = Math.max(this.sentStates, revision);
      for (const s of [...this.subscribers]) if (s.withStates) s.send({ ...emptyDelta(revision), ...states });
    }
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
    const ending = [...this.subscribers];
    this.subscribers.clear();
    for (const s of ending) s.end(reason);
  }

  private sendRevision(revision: number, now: number): void {
    this.lastRevisionOnlyAt = now;
    this.sent = Math.max(this.sent, revision);
    const delta = emptyDelta(revision);
    // Subscribers withStates already have the revisions their states came with.
    for (const s of [...this.subscribers]) if (!s.withStates || revision > this.sentStates) s.send(delta);
  }

  private send(delta: ClusterDelta, states?: StateChanges): void {
    this.sent = Math.max(this.sent, delta.revision);
    const withStates = states ? { ...delta, ...states } : delta;
    for (const s of [...this.subscribers]) s.send(s.withStates ? withStates : delta);
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

/** The states the batch wrote or removed, as the cache now holds them (undefined when none). */
export function foldStates(changes: readonly CacheChange[], cache: RegistryCache): StateChanges | undefined {
  const touched = new Map<string, UnitStateKey>();
  for (const c of changes) if (c.kind === "state") touched.set(`${c.machineId}/${c.name}`, { unitName: c.name, machineId: c.machineId });
  if (touched.size === 0) return undefined;
  const out: StateChanges = { states: [], removedStates: [] };
  for (const key of touched.values()) {
    const state = cache.states.get(key.machineId)?.get(key.unitName)?.value;
    if (state) out.states.push(state);
    else out.removedStates.push(key);
  }
  return out;
}

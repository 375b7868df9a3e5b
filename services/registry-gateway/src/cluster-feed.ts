// WatchCluster's source: the whole cluster once, then per committed batch of the watch only
// what changed, as one message. Pure apart from the subscribers it is given: the gateway's
// main feeds it the CacheChange records of each batch (registry-cache.ts), in commit order.
//
//   subscribe   snapshot of the cache at its revision, then every later batch; taken in one
//               synchronous step, so no batch falls between the two
//   publish     the batch folded per key (the last event of a key wins) into one delta
import type { Machine, Placement, Unit } from "@fleet/domain";
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
}

export type ClusterSubscriber = (delta: ClusterDelta) => void;

export class ClusterFeed {
  private readonly subscribers = new Set<ClusterSubscriber>();

  constructor(private readonly cache: RegistryCache) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Sends the snapshot at once, then every batch after it; returns the unsubscribe. */
  subscribe(subscriber: ClusterSubscriber): () => void {
    subscriber({
      revision: this.cache.revision,
      snapshot: true,
      units: this.cache.sortedUnits(),
      removedUnits: [],
      placements: this.cache.placements(),
      removedPlacements: [],
      machines: this.cache.sortedMachines(),
      removedMachines: [],
    });
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** One committed batch of the watch. */
  publish(changes: readonly CacheChange[], revision: number): void {
    if (this.subscribers.size === 0) return;
    const delta = foldChanges(changes, revision);
    if (delta === undefined) return;
    for (const s of [...this.subscribers]) s(delta);
  }
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
  const delta: ClusterDelta = {
    revision,
    snapshot: false,
    units: [],
    removedUnits: [],
    placements: [],
    removedPlacements: [],
    machines: [],
    removedMachines: [],
  };
  for (const [name, u] of units) (u ? delta.units.push(u) : delta.removedUnits.push(name));
  for (const [name, p] of placements) (p ? delta.placements.push(p) : delta.removedPlacements.push(name));
  for (const [id, m] of machines) (m ? delta.machines.push(m) : delta.removedMachines.push(id));
  return delta;
}

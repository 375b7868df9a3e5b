// WatchUnits' source: named units (or every unit) with their placements and states, first as
// they are, then per committed batch of the watch only those that changed (a unit destroyed:
// among the missing). Pure apart from the subscribers it
// is given: the gateway's main feeds it each batch's CacheChange records (registry-cache.ts).
import type { Placement, Unit, UnitState } from "@fleet/domain";
import type { CacheChange, RegistryCache } from "./registry-cache.js";

export interface UnitRecord {
  readonly unit: Unit;
  readonly placement: Placement;
  readonly states: UnitState[];
}

export interface UnitsUpdate {
  readonly revision: number;
  readonly units: UnitRecord[];
  /** Named units that do not exist (any more). */
  readonly missing: string[];
}

interface Subscriber {
  /** undefined: every unit. */
  readonly names: ReadonlySet<string> | undefined;
  readonly send: (update: UnitsUpdate) => void;
}

export class UnitsFeed {
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    private readonly cache: RegistryCache,
    private readonly statesOf: (name: string) => UnitState[],
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Sends the named units (none named: every unit) as they are at once, then every change of them; returns the unsubscribe. */
  subscribe(names: readonly string[], send: (update: UnitsUpdate) => void): () => void {
    const subscriber: Subscriber = { names: names.length > 0 ? new Set(names) : undefined, send };
    send(this.update(subscriber.names ? [...subscriber.names] : [...this.cache.units.keys()]));
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** One committed batch of the watch: each subscriber hears about its units in it, if any. */
  publish(changes: readonly CacheChange[]): void {
    if (this.subscribers.size === 0) return;
    const touched = new Set<string>();
    for (const c of changes) if (c.kind === "unit" || c.kind === "schedule" || c.kind === "state") touched.add(c.name);
    if (touched.size === 0) return;
    for (const s of [...this.subscribers]) {
      const hit = s.names ? [...touched].filter((n) => s.names?.has(n)) : [...touched];
      if (hit.length > 0) s.send(this.update(hit));
    }
  }

  private update(names: readonly string[]): UnitsUpdate {
    const units: UnitRecord[] = [];
    const missing: string[] = [];
    for (const name of names) {
      const entry = this.cache.units.get(name);
      if (entry) units.push({ unit: entry.value, placement: this.cache.placementOf(name), states: this.statesOf(name) });
      else missing.push(name);
    }
    return { revision: this.cache.revision, units, missing };
  }
}

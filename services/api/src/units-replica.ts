// The api's copy of the units, their placements and the states machines report: what its reads
// (ListUnits, GetUnit, ListUnitStates and the HTTP API v1 lists) are answered from, so that a page
// costs a slice of a sorted list instead of two calls to the registry-gateway. Pure: a snapshot,
// then deltas, in the order the gateway's WatchCluster (with_states) sends them.
import type { Placement, Unit, UnitState, UnitView } from "@fleet/domain";
import { unitView } from "./unit-view.js";

/** A unit's state on one machine. */
export interface UnitStateKey {
  readonly unitName: string;
  readonly machineId: string;
}

/** What one message of the feed changes (all of it, in a snapshot). */
export interface UnitsDelta {
  readonly units: readonly Unit[];
  readonly removedUnits: readonly string[];
  readonly placements: readonly Placement[];
  readonly removedPlacements: readonly string[];
  readonly states: readonly UnitState[];
  readonly removedStates: readonly UnitStateKey[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class UnitsReplica {
  private readonly units = new Map<string, Unit>();
  private readonly placements = new Map<string, Placement>();
  /** unit name -> machine id -> state. */
  private readonly states = new Map<string, Map<string, UnitState>>();
  /** The unit names sorted, until a unit comes or goes. */
  private sorted: string[] | undefined;
  /** Every state, by unit then machine, until a state changes. */
  private allStates: UnitState[] | undefined;

  /** Starts over from a snapshot. */
  static fromSnapshot(snapshot: UnitsDelta): UnitsReplica {
    const replica = new UnitsReplica();
    replica.apply(snapshot);
    return replica;
  }

  get unitCount(): number {
    return this.units.size;
  }

  apply(delta: UnitsDelta): void {
    for (const u of delta.units) {
      if (!this.units.has(u.name)) this.sorted = undefined;
      this.units.set(u.name, u);
    }
    for (const name of delta.removedUnits) if (this.units.delete(name)) this.sorted = undefined;
    for (const p of delta.placements) this.placements.set(p.unitName, p);
    for (const name of delta.removedPlacements) this.placements.delete(name);
    if (delta.states.length > 0 || delta.removedStates.length > 0) this.allStates = undefined;
    for (const s of delta.states) {
      let perUnit = this.states.get(s.name);
      if (!perUnit) this.states.set(s.name, (perUnit = new Map()));
      perUnit.set(s.machineId, s);
    }
    for (const k of delta.removedStates) {
      const perUnit = this.states.get(k.unitName);
      perUnit?.delete(k.machineId);
      if (perUnit?.size === 0) this.states.delete(k.unitName);
    }
  }

  /** The unit as users see it, undefined when there is none by that name. */
  view(name: string): UnitView | undefined {
    const unit = this.units.get(name);
    return unit ? this.viewOf(unit) : undefined;
  }

  /** The unit with its placement and every state reported for it. */
  record(name: string): { unit: Unit; placement: Placement | undefined; states: UnitState[] } | undefined {
    const unit = this.units.get(name);
    return unit ? { unit, placement: this.placements.get(name), states: this.statesOf(name) } : undefined;
  }

  /**
   * Units sorted by name: `limit` of them from `offset` (limit 0: all from offset); and how many
   * there are. With `only`, of the units it keeps (a caller limited to some units).
   */
  page(offset: number, limit: number, only?: (name: string) => boolean): { views: UnitView[]; total: number } {
    const all = (this.sorted ??= [...this.units.keys()].sort(byName));
    const names = only ? all.filter(only) : all;
    const slice = names.slice(offset, limit > 0 ? offset + limit : undefined);
    return { views: slice.map((name) => this.viewOf(this.units.get(name) as Unit)), total: names.length };
  }

  /**
   * States of the machine's units (every machine's when machineId is ""), of the named units
   * (all when none), by unit name then machine: what the gateway's ListUnitStates answers.
   */
  listStates(machineId: string, unitNames: readonly string[]): UnitState[] {
    if (machineId === "" && unitNames.length === 0) return (this.allStates ??= this.collectStates(machineId, unitNames)).slice();
    return this.collectStates(machineId, unitNames);
  }

  private collectStates(machineId: string, unitNames: readonly string[]): UnitState[] {
    const names = unitNames.length > 0 ? [...new Set(unitNames)].sort(byName) : [...this.states.keys()].sort(byName);
    const out: UnitState[] = [];
    for (const name of names) {
      for (const s of this.statesOf(name)) if (machineId === "" || s.machineId === machineId) out.push(s);
    }
    return out;
  }

  private statesOf(name: string): UnitState[] {
    const perUnit = this.states.get(name);
    return perUnit ? [...perUnit.values()].sort((a, b) => byName(a.machineId, b.machineId)) : [];
  }

  private viewOf(unit: Unit): UnitView {
    const placement = this.placements.get(unit.name);
    const state = placement?.machineId ? this.states.get(unit.name)?.get(placement.machineId) : undefined;
    return unitView(unit, placement, state ? [state] : []);
  }
}

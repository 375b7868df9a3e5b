// The incremental scheduler's units and their relations, kept between decisions and changed
// unit by unit: what resolveUnits (schedule-relations.ts) builds from nothing for one decision,
// here updated in place, with the same arrays in the same orders wherever the decision reads
// an order (targets in MachineOf order, followers and replacedBy by name, replaces and circular
// in the unit's own pattern order).
//
//   MachineOf   followersOf: target name -> the units naming it, so a target that appears,
//               goes or changes relinks its followers; depth and cycles are recomputed over
//               the connected MachineOf component of what changed
//   Conflicts   one pattern group per distinct pattern, made when its first holder appears and
//               dropped with its last; a new unit is matched against the existing patterns
//               (literal ones by name, globs one by one)
//   Replaces    replaceHolders: pattern -> the units holding it; a unit's replace relations
//               are rebuilt when it, or a unit it names or that names it, changes
//
// Every unit whose own rules changed is reported through `dirty`, to be decided again.
import { compileGlob, isLiteralGlob } from "./glob.js";
import { findDepthsAndCycles, machineOfProblem } from "./schedule-relations.js";
import {
  addPattern,
  clearRelation,
  NameIndex,
  NO_REQUIRED_MACHINE,
  relate,
  UnitRec,
  type PatternGroup,
  type Relation,
  type ScheduleState,
} from "./schedule-state.js";
import type { Placement, Unit } from "./types.js";
import { readXFleet } from "./x-fleet.js";

export interface IndexEvents {
  /** A new unit the engine places (not on any machine yet). */
  created(rec: UnitRec): void;
  /** The unit's rules or relations changed: decide it again. */
  dirty(rec: UnitRec): void;
  /** The unit is about to be dropped (its relations and machine are still in place). */
  dropping(rec: UnitRec): void;
  /** The unit was taken off its machine and dropped. */
  dropped(rec: UnitRec): void;
}

const byName = (a: UnitRec, b: UnitRec): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export class UnitIndex {
  readonly units = new Map<string, Unit>();
  /** Every unit by name: its UnitRec when the engine places it. */
  readonly everyUnit = new Map<string, Unit | UnitRec>();
  /** The UnitRecs by name. */
  readonly sorted: UnitRec[] = [];
  readonly names = new NameIndex(this.sorted, this.everyUnit);
  private readonly conflictGroups = new Map<string, PatternGroup>();
  private readonly globConflicts = new Map<string, PatternGroup>();
  private readonly replaceHolders = new Map<string, Set<UnitRec>>();
  private readonly globReplaces = new Set<string>();
  private readonly followersOf = new Map<string, Set<UnitRec>>();
  private readonly pinned = new Map<string, Set<UnitRec>>();

  constructor(
    private readonly state: ScheduleState,
    private readonly stored: ReadonlyMap<string, Placement>,
    private readonly events: IndexEvents,
  ) {}

  rec(name: string): UnitRec | undefined {
    return this.names.get(name);
  }

  /** Whether `rec` is the current UnitRec of its name (not one dropped since). */
  isLive(rec: UnitRec): boolean {
    return this.everyUnit.get(rec.name) === rec;
  }

  /** Units with MachineID naming this machine (compared without regard to case). */
  pinnedTo(machineId: string): ReadonlySet<UnitRec> {
    return this.pinned.get(machineId.toLowerCase()) ?? new Set();
  }

  /** Removes and puts units (a put replaces a unit of the same name). */
  update(removed: readonly string[], put: readonly Unit[]): void {
    const changed = new Set<string>();
    const seeds = new Set<UnitRec>();
    const rebuild = new Set<UnitRec>();
    for (const name of removed) if (this.remove(name, seeds, rebuild)) changed.add(name);
    const fresh: UnitRec[] = [];
    for (const unit of put) {
      const prev = this.units.get(unit.name);
      if (prev !== undefined && sameForScheduling(prev, unit)) {
        this.units.set(unit.name, unit);
        if (!(this.everyUnit.get(unit.name) instanceof UnitRec)) this.everyUnit.set(unit.name, unit);
        continue;
      }
      if (prev !== undefined) this.remove(unit.name, seeds, rebuild);
      changed.add(unit.name);
      this.units.set(unit.name, unit);
      const req = unit.desiredState === "inactive" ? undefined : readXFleet(unit.name, unit.options);
      if (req === undefined || req.global) {
        this.everyUnit.set(unit.name, unit);
        continue;
      }
      const required = req.machineId === undefined ? NO_REQUIRED_MACHINE : this.state.requiredMachine(req.machineId);
      const rec = new UnitRec(unit, unit.name, req, this.stored.get(unit.name), this.state.group(req.metadata), required);
      this.everyUnit.set(unit.name, rec);
      fresh.push(rec);
      this.events.created(rec);
    }
    this.insertSorted(fresh);
    this.linkConflicts(fresh);
    for (const rec of fresh) {
      for (const pattern of rec.req.replaces) {
        let holders = this.replaceHolders.get(pattern);
        if (holders === undefined) this.replaceHolders.set(pattern, (holders = new Set()));
        holders.add(rec);
        if (!isLiteralGlob(pattern)) this.globReplaces.add(pattern);
      }
      if (rec.req.replaces.length > 0) rebuild.add(rec);
      for (const holder of this.replaceHoldersMatching(rec.name)) rebuild.add(holder);
      if (rec.req.machineId !== undefined) addTo(this.pinned, rec.req.machineId.toLowerCase(), rec);
      for (const name of rec.req.machineOf) addTo(this.followersOf, name, rec);
    }
    for (const r of rebuild) this.rebuildReplaces(r);
    for (const rec of fresh) this.relinkTargets(rec, seeds);
    for (const name of changed) {
      for (const follower of this.followersOf.get(name) ?? []) {
        if (!this.isLive(follower)) continue;
        this.relinkTargets(follower, seeds);
        this.events.dirty(follower);
      }
    }
    this.recomputeDepths(seeds);
    for (const rec of fresh) this.events.dirty(rec);
  }

  private remove(name: string, seeds: Set<UnitRec>, rebuild: Set<UnitRec>): boolean {
    const entry = this.everyUnit.get(name);
    if (entry === undefined) return false;
    if (entry instanceof UnitRec) this.drop(entry, seeds, rebuild);
    this.everyUnit.delete(name);
    this.units.delete(name);
    return true;
  }

  private drop(rec: UnitRec, seeds: Set<UnitRec>, rebuild: Set<UnitRec>): void {
    this.events.dropping(rec);
    this.state.remove(rec);
    this.events.dropped(rec);
    const at = lowerBound(this.sorted, rec.name);
    if (this.sorted[at] === rec) this.sorted.splice(at, 1);
    // Conflicts
    for (const g of rec.matchedBy) removeItem(g.matches, rec);
    for (const g of rec.ownPatterns) {
      removeItem(g.holders, rec);
      if (g.holders.length === 0) this.deleteGroup(g);
    }
    // Replaces
    for (const x of rec.replaces) {
      removeItem(x.replacedBy as UnitRec[], rec);
      this.events.dirty(x);
    }
    for (const x of [...rec.replacedBy, ...rec.circular]) rebuild.add(x);
    for (const pattern of rec.req.replaces) {
      const holders = this.replaceHolders.get(pattern);
      holders?.delete(rec);
      if (holders?.size === 0) {
        this.replaceHolders.delete(pattern);
        this.globReplaces.delete(pattern);
      }
    }
    // MachineOf
    for (const t of rec.targets) {
      removeItem(t.followers as UnitRec[], rec);
      seeds.add(t);
    }
    for (const f of rec.followers) seeds.add(f);
    for (const name of rec.req.machineOf) removeFrom(this.followersOf, name, rec);
    if (rec.req.machineId !== undefined) removeFrom(this.pinned, rec.req.machineId.toLowerCase(), rec);
  }

  private insertSorted(fresh: UnitRec[]): void {
    if (fresh.length === 0) return;
    fresh.sort(byName);
    if (fresh.length < 64) {
      for (const rec of fresh) this.sorted.splice(lowerBound(this.sorted, rec.name), 0, rec);
      return;
    }
    const merged: UnitRec[] = [];
    let i = 0;
    let j = 0;
    while (i < this.sorted.length || j < fresh.length) {
      const a = this.sorted[i];
      const b = fresh[j];
      if (b === undefined || (a !== undefined && a.name < b.name)) {
        merged.push(a as UnitRec);
        i++;
      } else {
        merged.push(b);
        j++;
      }
    }
    this.sorted.length = 0;
    for (const r of merged) this.sorted.push(r);
  }

  // ---- Conflicts

  private linkConflicts(fresh: readonly UnitRec[]): void {
    // Groups that exist already and match a new unit...
    for (const rec of fresh) {
      const literal = this.conflictGroups.get(rec.name);
      if (literal !== undefined && isLiteralGlob(literal.pattern)) addMatch(literal, rec);
      for (const g of this.globConflicts.values()) if (compileGlob(g.pattern)?.(rec.name)) addMatch(g, rec);
    }
    // ...then the new units' own patterns (a new group matches every unit, new ones included).
    for (const rec of fresh) {
      for (const pattern of rec.req.conflicts) {
        let g = this.conflictGroups.get(pattern);
        if (g === undefined) {
          g = { pattern, holders: [], matches: [], holdersOn: new Map(), matchesOn: new Map() };
          this.conflictGroups.set(pattern, g);
          if (!isLiteralGlob(pattern)) this.globConflicts.set(pattern, g);
          for (const match of this.names.matching(pattern)) addMatch(g, match);
        }
        g.holders.push(rec);
        addPattern(rec, "ownPatterns", g);
      }
    }
  }

  private deleteGroup(g: PatternGroup): void {
    this.conflictGroups.delete(g.pattern);
    this.globConflicts.delete(g.pattern);
    for (const m of g.matches) removeItem(m.matchedBy as PatternGroup[], g);
  }

  // ---- Replaces

  private *replaceHoldersMatching(name: string): Iterable<UnitRec> {
    yield* this.replaceHolders.get(name) ?? [];
    for (const pattern of this.globReplaces) if (compileGlob(pattern)?.(name)) yield* this.replaceHolders.get(pattern) ?? [];
  }

  /** Rebuilds `r`'s replaces / circular exactly as resolveUnits would, and its partners' replacedBy. */
  private rebuildReplaces(r: UnitRec): void {
    for (const x of r.replaces) {
      removeItem(x.replacedBy as UnitRec[], r);
      this.events.dirty(x);
    }
    for (const x of r.circular) this.events.dirty(x);
    clearRelation(r, "replaces");
    clearRelation(r, "circular");
    if (!this.isLive(r)) return;
    this.events.dirty(r);
    const set = new Set<UnitRec>();
    for (const pattern of r.req.replaces) for (const match of this.names.matching(pattern)) if (match !== r) set.add(match);
    for (const other of set) {
      if (other.req.replaces.some((p) => compileGlob(p)?.(r.name))) relate(r, "circular", other);
      else {
        relate(r, "replaces", other);
        insertByName(other, "replacedBy", r);
      }
      this.events.dirty(other);
    }
  }

  // ---- MachineOf

  private relinkTargets(rec: UnitRec, seeds: Set<UnitRec>): void {
    for (const t of rec.targets) {
      removeItem(t.followers as UnitRec[], rec);
      seeds.add(t);
    }
    clearRelation(rec, "targets");
    rec.targetProblem = undefined;
    seeds.add(rec);
    for (const name of rec.req.machineOf) {
      const target = this.names.get(name);
      if (target !== undefined) {
        relate(rec, "targets", target);
        insertByName(target, "followers", rec);
        seeds.add(target);
        continue;
      }
      const unit = this.units.get(name);
      rec.targetProblem ??= machineOfProblem(name, unit);
    }
  }

  /** Depth and cycles again over the MachineOf components of `seeds` (a DFS per component is the whole-graph DFS restricted to it). */
  private recomputeDepths(seeds: ReadonlySet<UnitRec>): void {
    const seen = new Set<UnitRec>();
    for (const seed of seeds) {
      if (seen.has(seed) || !this.isLive(seed)) continue;
      const component: UnitRec[] = [];
      const stack = [seed];
      seen.add(seed);
      while (stack.length > 0) {
        const r = stack.pop() as UnitRec;
        component.push(r);
        for (const n of r.targets) if (!seen.has(n)) (seen.add(n), stack.push(n));
        for (const n of r.followers) if (!seen.has(n)) (seen.add(n), stack.push(n));
      }
      if (component.length === 1 && seed.targets.length === 0) {
        if (seed.cycle !== undefined) this.events.dirty(seed);
        seed.depth = 0;
        seed.cycle = undefined;
        continue;
      }
      const cycles = component.map((r) => r.cycle);
      for (const r of component) {
        r.depth = 0;
        r.cycle = undefined;
      }
      component.sort(byName);
      findDepthsAndCycles(component);
      component.forEach((r, i) => {
        if (r.cycle !== cycles[i]) this.events.dirty(r);
      });
    }
  }
}

/** Scheduling reads a unit's name, options and whether it is wanted: loaded <-> launched changes nothing. */
function sameForScheduling(a: Unit, b: Unit): boolean {
  if ((a.desiredState === "inactive") !== (b.desiredState === "inactive")) return false;
  if (a.options === b.options) return true;
  if (a.options.length !== b.options.length) return false;
  return a.options.every((o, i) => {
    const p = b.options[i];
    return p !== undefined && o.section === p.section && o.name === p.name && o.value === p.value;
  });
}

function addMatch(g: PatternGroup, rec: UnitRec): void {
  g.matches.push(rec);
  addPattern(rec, "matchedBy", g);
  if (rec.machine >= 0) g.matchesOn.set(rec.machine, (g.matchesOn.get(rec.machine) ?? 0) + 1);
}

function lowerBound(sorted: readonly UnitRec[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as UnitRec).name < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts after the units of the same or smaller name (the order resolveUnits gives). */
function insertByName(owner: UnitRec, relation: Relation, other: UnitRec): void {
  const list = owner[relation];
  if (list.length === 0) return relate(owner, relation, other);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as UnitRec).name <= other.name) lo = mid + 1;
    else hi = mid;
  }
  (list as UnitRec[]).splice(lo, 0, other);
}

function removeItem<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  set?.delete(value);
  if (set?.size === 0) map.delete(key);
}

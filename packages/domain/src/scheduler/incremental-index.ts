// The incremental scheduler's units and their relations, kept between decisions and changed
// unit by unit: what resolveUnits (schedule-relations.ts) builds from nothing for one decision,
// here updated in place, with the same arrays in the same orders wherever the decision reads
// an order (targets in MachineOf order, followers and replacedBy by name, replaces and circular
// in the unit's own pattern order). Each relation keeps its own links:
//
//   MachineOf   machine-of-links.ts   followers by target name, depth and cycles per component
//   Conflicts   conflict-links.ts     one pattern group per distinct pattern
//   Replaces    replace-links.ts      holders by pattern, relations rebuilt per unit
//   MachineID   here                  units by pinned machine id (lower case)
//
// Every unit whose own rules changed is reported through `dirty`, to be decided again.
import type { Placement, Unit } from "../types.js";
import { readXFleet } from "../unit-files/x-fleet.js";
import { addTo, removeFrom } from "./collections.js";
import { ConflictLinks } from "./conflict-links.js";
import { MachineOfLinks } from "./machine-of-links.js";
import { NameIndex } from "./name-index.js";
import { ReplaceLinks } from "./replace-links.js";
import type { ScheduleState } from "./schedule-state.js";
import { mergeByName, removeByName } from "./sorted.js";
import { UnitRec } from "./unit-record.js";

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

export class UnitIndex {
  readonly units = new Map<string, Unit>();
  /** Every unit by name: its UnitRec when the engine places it. */
  readonly everyUnit = new Map<string, Unit | UnitRec>();
  /** The UnitRecs by name. */
  readonly sorted: UnitRec[] = [];
  readonly names = new NameIndex(this.sorted, this.everyUnit);
  private readonly pinned = new Map<string, Set<UnitRec>>();
  private readonly conflicts = new ConflictLinks(this.names);
  private readonly replaces: ReplaceLinks;
  private readonly machineOf: MachineOfLinks;

  constructor(
    private readonly state: ScheduleState,
    private readonly stored: ReadonlyMap<string, Placement>,
    private readonly events: IndexEvents,
  ) {
    const isLive = (rec: UnitRec): boolean => this.isLive(rec);
    const dirty = (rec: UnitRec): void => events.dirty(rec);
    this.replaces = new ReplaceLinks(this.names, isLive, dirty);
    this.machineOf = new MachineOfLinks(this.names, this.units, isLive, dirty);
  }

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
      const rec = this.create(unit);
      if (rec !== undefined) fresh.push(rec);
    }
    mergeByName(this.sorted, fresh);
    this.conflicts.link(fresh);
    for (const rec of fresh) {
      this.replaces.add(rec, rebuild);
      if (rec.req.machineId !== undefined) addTo(this.pinned, rec.req.machineId.toLowerCase(), rec);
      this.machineOf.add(rec);
    }
    for (const r of rebuild) this.replaces.rebuild(r);
    for (const rec of fresh) this.machineOf.relinkTargets(rec, seeds);
    for (const name of changed) this.machineOf.relinkFollowersOf(name, seeds);
    this.machineOf.recomputeDepths(seeds);
    for (const rec of fresh) this.events.dirty(rec);
  }

  /** The unit's record when the engine places it (wanted, not global); else it is kept as a plain unit. */
  private create(unit: Unit): UnitRec | undefined {
    const req = unit.desiredState === "inactive" ? undefined : readXFleet(unit.name, unit.options);
    if (req === undefined || req.global) {
      this.everyUnit.set(unit.name, unit);
      return undefined;
    }
    const required = req.machineId === undefined ? "any" : this.state.requiredMachine(req.machineId);
    const rec = new UnitRec(unit, unit.name, req, this.stored.get(unit.name), this.state.group(req.metadata), required);
    this.everyUnit.set(unit.name, rec);
    this.events.created(rec);
    return rec;
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
    removeByName(this.sorted, rec);
    this.conflicts.unlink(rec);
    this.replaces.drop(rec, rebuild);
    this.machineOf.drop(rec, seeds);
    if (rec.req.machineId !== undefined) removeFrom(this.pinned, rec.req.machineId.toLowerCase(), rec);
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

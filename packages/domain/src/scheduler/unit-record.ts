// One unit the engine places, with its requirements resolved, and the typed machine slots it
// refers to. A record is the scheduler's working copy of a unit: its machine and notes change
// as a decision runs; its relations are resolved once (schedule-relations.ts) or kept up to
// date between decisions (the incremental index).
import type { Placement, Unit } from "../types.js";
import type { XFleetRequirements } from "../unit-files/x-fleet.js";
import type { MachineGroup } from "./machine-group.js";

declare const slotBrand: unique symbol;

/**
 * A machine's index in a ScheduleState. One decision gives slots in machine-id order; the
 * incremental state keeps a machine's slot for its lifetime. A unit on no machine has
 * `machine === undefined`, never a magic number.
 */
export type Slot = number & { readonly [slotBrand]: true };

export function asSlot(index: number): Slot {
  return index as Slot;
}

/** A unit's MachineID requirement: none ("any"), a machine that is not live, or its slot. */
export type RequiredMachine = Slot | "any" | "not-live";

const NONE: readonly never[] = Object.freeze([]);

/** One distinct Conflicts pattern: who holds it, who matches it, and where they are placed. */
export interface PatternGroup {
  readonly pattern: string;
  readonly holders: UnitRec[];
  readonly matches: UnitRec[];
  /** machine -> placed holders / placed matches there. */
  readonly holdersOn: Map<Slot, number>;
  readonly matchesOn: Map<Slot, number>;
}

export function newPatternGroup(pattern: string): PatternGroup {
  return { pattern, holders: [], matches: [], holdersOn: new Map(), matchesOn: new Map() };
}

export class UnitRec {
  /** The machine it is placed on; undefined when on none. */
  machine: Slot | undefined = undefined;
  /** Why its MachineOf can never hold now (missing, inactive or global target). */
  targetProblem: string | undefined = undefined;
  cycle: string | undefined = undefined;
  depth = 0;
  /** Moved off its machine by a unit that replaces it (or with such a unit's target). */
  pushed = false;
  /** Why it left the machine it was stored on. */
  note: string | undefined = undefined;
  placeReason = "";
  // Relations, allocated only for the units that have any (most have none).
  targets: readonly UnitRec[] = NONE;
  followers: readonly UnitRec[] = NONE;
  ownPatterns: readonly PatternGroup[] = NONE;
  matchedBy: readonly PatternGroup[] = NONE;
  replaces: readonly UnitRec[] = NONE;
  replacedBy: readonly UnitRec[] = NONE;
  circular: readonly UnitRec[] = NONE;

  constructor(
    readonly unit: Unit,
    readonly name: string,
    readonly req: XFleetRequirements,
    /** The stored placement (the incremental scheduler updates it as placements are written). */
    public stored: Placement | undefined,
    readonly group: MachineGroup,
    public requiredMachine: RequiredMachine,
  ) {}
}

export type Relation = "targets" | "followers" | "replaces" | "replacedBy" | "circular";
export type PatternRelation = "ownPatterns" | "matchedBy";

export function relate(rec: UnitRec, relation: Relation, other: UnitRec): void {
  if (rec[relation] === NONE) rec[relation] = [other];
  else (rec[relation] as UnitRec[]).push(other);
}

export function addPattern(rec: UnitRec, relation: PatternRelation, group: PatternGroup): void {
  if (rec[relation] === NONE) rec[relation] = [group];
  else (rec[relation] as PatternGroup[]).push(group);
}

/** Drops every relation of one kind (the incremental index rebuilds them). */
export function clearRelation(rec: UnitRec, relation: Relation): void {
  rec[relation] = NONE;
}

/** The list of one relation, writable (allocated on first use). */
export function relationList(rec: UnitRec, relation: Relation): UnitRec[] {
  if (rec[relation] === NONE) rec[relation] = [];
  return rec[relation] as UnitRec[];
}

/** Targets before followers (MachineOf depth), then by name: the order of every pass. */
export function compareRecs(a: UnitRec, b: UnitRec): number {
  return a.depth - b.depth || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

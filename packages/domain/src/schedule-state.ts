// The working state of one scheduling decision: the units with their resolved requirements,
// the live machines with their loads, and the indexes that keep each check proportional to
// what it concerns rather than to the cluster:
//
//   machine groups   one per distinct MachineMetadata requirement: its eligible machines
//                    (from an inverted metadata index) and a lazy load heap over them
//   pattern groups   one per distinct Conflicts pattern: who holds it, who matches it, and
//                    per machine how many of each are placed there
//   relations        MachineOf targets/followers, Replaces (one way) and circular Replaces,
//                    resolved to units once
import { compileGlob, globLiteralPrefix, isLiteralGlob } from "./glob.js";
import { LoadHeap, MAX_MACHINES } from "./load-heap.js";
import { metadataKey, type MetadataRequirement } from "./metadata-match.js";
import type { Machine, Placement, Unit } from "./types.js";
import type { XFleetRequirements } from "./x-fleet.js";

/** No MachineID requirement (a required machine that is not live is -1). */
export const NO_REQUIRED_MACHINE = -2;

const NONE: readonly never[] = Object.freeze([]);

/** One unit the engine places, with its requirements resolved for this decision. */
export class UnitRec {
  /** Index of the machine it is placed on in this decision, or -1. */
  machine = -1;
  /** Why its MachineOf can never hold in this snapshot (missing, inactive or global target). */
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
    readonly stored: Placement | undefined,
    readonly group: MachineGroup,
    /** The MachineID machine: NO_REQUIRED_MACHINE, -1 when not live, else its index. */
    readonly requiredMachine: number,
  ) {}
}

type Relation = "targets" | "followers" | "replaces" | "replacedBy" | "circular";

export function relate(rec: UnitRec, relation: Relation, other: UnitRec): void {
  if (rec[relation] === NONE) rec[relation] = [other];
  else (rec[relation] as UnitRec[]).push(other);
}

export function addPattern(rec: UnitRec, relation: "ownPatterns" | "matchedBy", group: PatternGroup): void {
  if (rec[relation] === NONE) rec[relation] = [group];
  else (rec[relation] as PatternGroup[]).push(group);
}

export class MachineGroup {
  heap: LoadHeap | undefined;

  constructor(
    readonly requirement: MetadataRequirement,
    /** Eligible machine indexes, ascending. */
    readonly members: readonly number[],
    private readonly membership: ReadonlySet<number> | undefined,
  ) {}

  has(m: number): boolean {
    return this.membership === undefined || this.membership.has(m);
  }
}

export interface PatternGroup {
  readonly pattern: string;
  readonly holders: UnitRec[];
  readonly matches: UnitRec[];
  /** machine -> placed holders / placed matches there. */
  readonly holdersOn: Map<number, number>;
  readonly matchesOn: Map<number, number>;
}

export class ScheduleState {
  /** Live machines in machine-id order; indexes into this array identify machines. */
  readonly machines: Machine[];
  readonly load: Int32Array;
  private readonly index = new Map<string, number>();
  private lowerIndex: Map<string, number> | undefined;
  readonly all: MachineGroup;
  private readonly groups = new Map<string, MachineGroup>();
  private readonly heaped: MachineGroup[] = [];
  private metadataIndex: Map<string, Map<string, number[]>> | undefined;

  constructor(machines: readonly Machine[]) {
    const unique = new Map<string, Machine>();
    for (const m of machines) if (!unique.has(m.id)) unique.set(m.id, m);
    this.machines = [...unique.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (this.machines.length >= MAX_MACHINES) throw new Error(`at most ${MAX_MACHINES - 1} machines are supported`);
    this.machines.forEach((m, i) => this.index.set(m.id, i));
    this.load = new Int32Array(this.machines.length);
    this.all = new MachineGroup([], this.machines.map((_, i) => i), undefined);
  }

  machineIndex(id: string): number | undefined {
    return this.index.get(id);
  }

  /** The live machine with this MachineID (compared without regard to case), or -1. */
  requiredMachine(id: string): number {
    const exact = this.index.get(id);
    if (exact !== undefined) return exact;
    this.lowerIndex ??= new Map(this.machines.map((m, i) => [m.id.toLowerCase(), i]));
    return this.lowerIndex.get(id.toLowerCase()) ?? -1;
  }

  /** The machines satisfying a MachineMetadata requirement, shared by equal requirements. */
  group(requirement: MetadataRequirement): MachineGroup {
    if (requirement.length === 0) return this.all;
    const key = metadataKey(requirement);
    let group = this.groups.get(key);
    if (group === undefined) {
      const members = this.matchingMachines(requirement);
      group = new MachineGroup(requirement, members, new Set(members));
      this.groups.set(key, group);
    }
    return group;
  }

  private matchingMachines(requirement: MetadataRequirement): number[] {
    if (this.metadataIndex === undefined) {
      const index = new Map<string, Map<string, number[]>>();
      this.machines.forEach((machine, i) => {
        for (const [key, value] of Object.entries(machine.metadata)) {
          let byValue = index.get(key);
          if (!byValue) index.set(key, (byValue = new Map()));
          const list = byValue.get(value);
          if (list) list.push(i);
          else byValue.set(value, [i]);
        }
      });
      this.metadataIndex = index;
    }
    let result: Set<number> | undefined;
    for (const [key, values] of requirement) {
      const byValue = this.metadataIndex.get(key);
      const matching = new Set<number>();
      for (const value of values) {
        for (const m of byValue?.get(value) ?? []) if (result === undefined || result.has(m)) matching.add(m);
      }
      result = matching;
      if (result.size === 0) break;
    }
    return [...(result ?? [])].sort((a, b) => a - b);
  }

  /** The least-loaded machine of the group (smallest id among equals) that `accept`s, or -1. */
  leastLoaded(group: MachineGroup, accept: (m: number) => boolean): number {
    if (group.heap === undefined) {
      group.heap = new LoadHeap(group.members, this.load);
      this.heaped.push(group);
    }
    return group.heap.first(accept);
  }

  add(rec: UnitRec, m: number): void {
    rec.machine = m;
    this.load[m] = (this.load[m] as number) + 1;
    for (const g of rec.ownPatterns) g.holdersOn.set(m, (g.holdersOn.get(m) ?? 0) + 1);
    for (const g of rec.matchedBy) g.matchesOn.set(m, (g.matchesOn.get(m) ?? 0) + 1);
  }

  remove(rec: UnitRec): void {
    const m = rec.machine;
    if (m < 0) return;
    rec.machine = -1;
    this.load[m] = (this.load[m] as number) - 1;
    for (const g of rec.ownPatterns) decrement(g.holdersOn, m);
    for (const g of rec.matchedBy) decrement(g.matchesOn, m);
    for (const group of this.heaped) if (group.has(m)) group.heap?.pushMachine(m);
  }

  /**
   * True when `rec` may not go on machine `m` because of the units there: one it conflicts
   * with, one that replaces it, or (unless it may push it away) one it replaces.
   */
  blocked(rec: UnitRec, m: number, mayPush: boolean): boolean {
    for (const g of rec.ownPatterns) if ((g.matchesOn.get(m) ?? 0) > 0) return true;
    for (const g of rec.matchedBy) if ((g.holdersOn.get(m) ?? 0) > 0) return true;
    for (const other of rec.replacedBy) if (other.machine === m) return true;
    if (!mayPush) for (const other of rec.replaces) if (other.machine === m) return true;
    return false;
  }

  /** The placed units `rec` conflicts with, on machine `m` or (m = -1) anywhere. */
  conflictingUnits(rec: UnitRec, m = -1): UnitRec[] {
    const found = new Set<UnitRec>();
    const consider = (other: UnitRec): void => {
      if (other !== rec && other.machine >= 0 && (m < 0 || other.machine === m)) found.add(other);
    };
    for (const g of rec.ownPatterns) g.matches.forEach(consider);
    for (const g of rec.matchedBy) g.holders.forEach(consider);
    return [...found];
  }
}

function decrement(counts: Map<number, number>, m: number): void {
  const n = (counts.get(m) ?? 0) - 1;
  if (n > 0) counts.set(m, n);
  else counts.delete(m);
}

/** Finds units by glob over the units sorted by name (a pattern's literal prefix narrows the scan). */
export class NameIndex {
  constructor(
    private readonly sorted: readonly UnitRec[],
    /** Every unit of the snapshot by name: its UnitRec when the engine places it. */
    readonly everyUnit: ReadonlyMap<string, Unit | UnitRec>,
  ) {}

  get(name: string): UnitRec | undefined {
    const entry = this.everyUnit.get(name);
    return entry instanceof UnitRec ? entry : undefined;
  }

  matching(pattern: string): UnitRec[] {
    if (isLiteralGlob(pattern)) {
      const rec = this.get(pattern);
      return rec ? [rec] : [];
    }
    const matcher = compileGlob(pattern);
    if (matcher === undefined) return [];
    const prefix = globLiteralPrefix(pattern);
    const out: UnitRec[] = [];
    for (let i = this.lowerBound(prefix); i < this.sorted.length; i++) {
      const rec = this.sorted[i] as UnitRec;
      if (!rec.name.startsWith(prefix)) break;
      if (matcher(rec.name)) out.push(rec);
    }
    return out;
  }

  private lowerBound(prefix: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.sorted[mid] as UnitRec).name < prefix) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

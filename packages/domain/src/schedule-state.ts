// The working state of a scheduling decision: the units with their resolved requirements,
// the live machines with their loads, and the indexes that keep each check proportional to
// what it concerns rather than to the cluster:
//
//   machine slots    a machine's index in the state. One decision (decideSchedule) gives slots
//                    in machine-id order; the incremental scheduler keeps a slot per machine id
//                    for its lifetime and keeps a rank per slot for the id order instead
//   machine groups   one per distinct MachineMetadata requirement: its eligible machines
//                    (from an inverted metadata index) and a lazy load heap over them
//   pattern groups   one per distinct Conflicts pattern: who holds it, who matches it, and
//                    per machine how many of each are placed there
//   relations        MachineOf targets/followers, Replaces (one way) and circular Replaces,
//                    resolved to units
import { compileGlob, globLiteralPrefix, isLiteralGlob } from "./glob.js";
import { LoadHeap, MAX_MACHINES, type LoadSource } from "./load-heap.js";
import { machineMatchesMetadata, metadataKey, type MetadataRequirement } from "./metadata-match.js";
import type { Machine, Placement, Unit } from "./types.js";
import type { XFleetRequirements } from "./x-fleet.js";

/** No MachineID requirement (a required machine that is not live is -1). */
export const NO_REQUIRED_MACHINE = -2;

const NONE: readonly never[] = Object.freeze([]);

/** One unit the engine places, with its requirements resolved. */
export class UnitRec {
  /** Slot of the machine it is placed on, or -1. */
  machine = -1;
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
    /** The MachineID machine: NO_REQUIRED_MACHINE, -1 when not live, else its slot. */
    public requiredMachine: number,
  ) {}
}

export type Relation = "targets" | "followers" | "replaces" | "replacedBy" | "circular";

export function relate(rec: UnitRec, relation: Relation, other: UnitRec): void {
  if (rec[relation] === NONE) rec[relation] = [other];
  else (rec[relation] as UnitRec[]).push(other);
}

export function addPattern(rec: UnitRec, relation: "ownPatterns" | "matchedBy", group: PatternGroup): void {
  if (rec[relation] === NONE) rec[relation] = [group];
  else (rec[relation] as PatternGroup[]).push(group);
}

/** Drops every relation of one kind (the incremental scheduler rebuilds them). */
export function clearRelation(rec: UnitRec, relation: Relation): void {
  rec[relation] = NONE;
}

export function clearPatterns(rec: UnitRec, relation: "ownPatterns" | "matchedBy"): void {
  rec[relation] = NONE;
}

export class MachineGroup {
  heap: LoadHeap | undefined;

  constructor(
    readonly requirement: MetadataRequirement,
    /** Eligible machine slots; undefined: every live machine. */
    private readonly membership: Set<number> | undefined,
    private readonly state: ScheduleState,
  ) {}

  has(m: number): boolean {
    return this.membership === undefined || this.membership.has(m);
  }

  /** How many live machines are eligible. */
  get size(): number {
    return this.membership === undefined ? this.state.liveCount : this.membership.size;
  }

  members(): number[] {
    return this.membership === undefined ? this.state.liveSlots() : [...this.membership];
  }

  /** A machine joined or left (incremental scheduler only). Returns whether membership changed. */
  setMember(m: number, member: boolean): boolean {
    if (this.membership === undefined || this.membership.has(m) === member) return false;
    if (member) {
      this.membership.add(m);
      this.heap?.pushMachine(m);
    } else this.membership.delete(m);
    return true;
  }

  get isEveryMachine(): boolean {
    return this.membership === undefined;
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

/** Told of every unit that changes machine (the incremental scheduler follows the moves). */
export type MoveListener = (rec: UnitRec, from: number, to: number) => void;

export class ScheduleState implements LoadSource {
  /** Machines by slot (undefined: a slot whose machine is gone). */
  readonly machines: Array<Machine | undefined>;
  load: Int32Array;
  /** Slot -> position in machine-id order; undefined when slots are in id order. */
  rank: Int32Array | undefined;
  liveCount: number;
  private readonly index = new Map<string, number>();
  private lowerIndex: Map<string, number> | undefined;
  readonly all: MachineGroup;
  private readonly groups = new Map<string, MachineGroup>();
  private readonly heaped: MachineGroup[] = [];
  private metadataIndex: Map<string, Map<string, number[]>> | undefined;
  /** Incremental scheduler only: slots keep their machine id forever, ranks give the order. */
  private readonly dynamic: boolean;
  onMove: MoveListener | undefined;
  private ranked = true;

  /** One decision over these machines (slots in machine-id order), or `dynamic` with none. */
  constructor(machines: readonly Machine[], options: { dynamic?: boolean } = {}) {
    this.dynamic = options.dynamic === true;
    const unique = new Map<string, Machine>();
    for (const m of machines) if (!unique.has(m.id)) unique.set(m.id, m);
    this.machines = [...unique.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (this.machines.length >= MAX_MACHINES) throw new Error(`at most ${MAX_MACHINES - 1} machines are supported`);
    this.machines.forEach((m, i) => this.index.set((m as Machine).id, i));
    this.liveCount = this.machines.length;
    this.load = new Int32Array(Math.max(this.machines.length, this.dynamic ? 16 : 0));
    this.rank = this.dynamic ? new Int32Array(this.load.length) : undefined;
    this.all = new MachineGroup([], undefined, this);
  }

  machineIndex(id: string): number | undefined {
    const slot = this.index.get(id);
    return slot !== undefined && this.machines[slot] !== undefined ? slot : undefined;
  }

  isLive(m: number): boolean {
    return this.machines[m] !== undefined;
  }

  liveSlots(): number[] {
    const out: number[] = [];
    this.machines.forEach((m, i) => {
      if (m !== undefined) out.push(i);
    });
    return out;
  }

  /** True when machine a comes before machine b in machine-id order. */
  idBefore(a: number, b: number): boolean {
    if (!this.ranked) this.rankMachines();
    return this.rank === undefined ? a < b : (this.rank[a] as number) < (this.rank[b] as number);
  }

  /** The live machine with this MachineID (compared without regard to case), or -1. */
  requiredMachine(id: string): number {
    const exact = this.machineIndex(id);
    if (exact !== undefined) return exact;
    if (this.lowerIndex === undefined) {
      this.lowerIndex = new Map();
      this.machines.forEach((m, i) => {
        if (m !== undefined && !this.lowerIndex?.has(m.id.toLowerCase())) this.lowerIndex?.set(m.id.toLowerCase(), i);
      });
    }
    return this.lowerIndex.get(id.toLowerCase()) ?? -1;
  }

  /** The machines satisfying a MachineMetadata requirement, shared by equal requirements. */
  group(requirement: MetadataRequirement): MachineGroup {
    if (requirement.length === 0) return this.all;
    const key = metadataKey(requirement);
    let group = this.groups.get(key);
    if (group === undefined) {
      group = new MachineGroup(requirement, new Set(this.matchingMachines(requirement)), this);
      this.groups.set(key, group);
    }
    return group;
  }

  /** Every machine group made so far (the every-machine group first). */
  machineGroups(): MachineGroup[] {
    return [this.all, ...this.groups.values()];
  }

  // ---- machines coming and going (incremental scheduler only) ----

  /** Adds or updates a live machine; returns its slot and the groups it joined or left. */
  putMachine(machine: Machine): { slot: number; joined: MachineGroup[]; left: MachineGroup[]; added: boolean } {
    if (!this.dynamic) throw new Error("putMachine needs a dynamic ScheduleState");
    let slot = this.index.get(machine.id);
    const added = slot === undefined || this.machines[slot] === undefined;
    if (slot === undefined) {
      slot = this.machines.length;
      if (slot >= MAX_MACHINES - 1) throw new Error(`at most ${MAX_MACHINES - 1} machines are supported`);
      this.machines.push(undefined);
      this.index.set(machine.id, slot);
      if (slot >= this.load.length) this.grow(slot + 1);
    }
    this.machines[slot] = machine;
    const joined: MachineGroup[] = [];
    const left: MachineGroup[] = [];
    for (const g of this.groups.values()) {
      const member = machineMatchesMetadata(machine.metadata, g.requirement);
      if (g.setMember(slot, member)) (member ? joined : left).push(g);
    }
    if (added) {
      this.liveCount++;
      this.ranked = false;
      this.lowerIndex = undefined;
    }
    this.metadataIndex = undefined;
    return { slot, joined, left, added };
  }

  /** Takes a machine out (its units must have been removed first); returns its slot and former groups. */
  dropMachine(id: string): { slot: number; left: MachineGroup[] } | undefined {
    const slot = this.machineIndex(id);
    if (slot === undefined) return undefined;
    const left: MachineGroup[] = [this.all];
    for (const g of this.groups.values()) if (g.setMember(slot, false)) left.push(g);
    this.machines[slot] = undefined;
    this.liveCount--;
    this.ranked = false;
    this.lowerIndex = undefined;
    this.metadataIndex = undefined;
    return { slot, left };
  }

  private grow(min: number): void {
    const size = Math.max(min, this.load.length * 2);
    const load = new Int32Array(size);
    load.set(this.load);
    this.load = load;
    const rank = new Int32Array(size);
    if (this.rank) rank.set(this.rank);
    this.rank = rank;
  }

  /** Ranks the live machines in id order after machines came or went (before any placement). */
  rankMachines(): void {
    if (this.ranked) return;
    this.ranked = true;
    const live = this.liveSlots().sort((a, b) => {
      const x = (this.machines[a] as Machine).id;
      const y = (this.machines[b] as Machine).id;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const rank = this.rank as Int32Array;
    live.forEach((slot, i) => (rank[slot] = i));
    // Entries of a machine that left keep their old rank: the heaps are rebuilt on next use.
    for (const g of this.heaped) g.heap = undefined;
  }

  private matchingMachines(requirement: MetadataRequirement): number[] {
    if (this.metadataIndex === undefined) {
      const index = new Map<string, Map<string, number[]>>();
      this.machines.forEach((machine, i) => {
        if (machine === undefined) return;
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
    if (!this.ranked) this.rankMachines();
    // A long-lived heap collects stale entries; rebuild it when they outnumber the machines.
    if (group.heap !== undefined && this.dynamic && group.heap.size > 4 * group.size + 64) group.heap = undefined;
    if (group.heap === undefined) {
      group.heap = new LoadHeap(group.members(), this, this.dynamic ? (m) => this.isLive(m) && group.has(m) : undefined);
      if (!this.heaped.includes(group)) this.heaped.push(group);
    }
    return group.heap.first(accept);
  }

  add(rec: UnitRec, m: number): void {
    rec.machine = m;
    this.load[m] = (this.load[m] as number) + 1;
    for (const g of rec.ownPatterns) g.holdersOn.set(m, (g.holdersOn.get(m) ?? 0) + 1);
    for (const g of rec.matchedBy) g.matchesOn.set(m, (g.matchesOn.get(m) ?? 0) + 1);
    this.onMove?.(rec, -1, m);
  }

  remove(rec: UnitRec): void {
    const m = rec.machine;
    if (m < 0) return;
    rec.machine = -1;
    this.load[m] = (this.load[m] as number) - 1;
    for (const g of rec.ownPatterns) decrement(g.holdersOn, m);
    for (const g of rec.matchedBy) decrement(g.matchesOn, m);
    for (const group of this.heaped) if (group.has(m)) group.heap?.pushMachine(m);
    this.onMove?.(rec, m, -1);
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

  /** The placed units `rec` conflicts with, on machine `m` or (m = -1) anywhere, by name. */
  conflictingUnits(rec: UnitRec, m = -1): UnitRec[] {
    const found = new Set<UnitRec>();
    const consider = (other: UnitRec): void => {
      if (other !== rec && other.machine >= 0 && (m < 0 || other.machine === m)) found.add(other);
    };
    for (const g of rec.ownPatterns) if (m < 0 || (g.matchesOn.get(m) ?? 0) > 0) g.matches.forEach(consider);
    for (const g of rec.matchedBy) if (m < 0 || (g.holdersOn.get(m) ?? 0) > 0) g.holders.forEach(consider);
    return [...found].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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

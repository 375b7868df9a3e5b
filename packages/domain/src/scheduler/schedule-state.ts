// The working state of a scheduling decision: the live machines in slots with their loads, and
// the indexes that keep each check proportional to what it concerns rather than to the cluster:
//
//   machine slots    a machine's index in the state (typed Slot). One decision gives slots in
//                    machine-id order; the incremental state (incremental-state.ts) keeps a
//                    slot per machine id for its lifetime and a rank per slot for the id order
//   machine groups   one per distinct MachineMetadata requirement: its eligible machines
//                    (from an inverted metadata index) and a lazy load heap over them
//   placements       add / remove a unit on a slot: loads and per-machine pattern counts
//
// The units themselves are unit-record.ts; feasibility (blocked, conflicts) feasibility.ts.
import type { Machine } from "../types.js";
import { LoadHeap, MAX_MACHINES, type LoadSource } from "./load-heap.js";
import { MachineGroup } from "./machine-group.js";
import { metadataKey, type MetadataRequirement } from "./metadata-match.js";
import { asSlot, type RequiredMachine, type Slot, type UnitRec } from "./unit-record.js";

/** Told of every unit that changes machine (the incremental scheduler follows the moves). */
export type MoveListener = (rec: UnitRec, from: Slot | undefined, to: Slot | undefined) => void;

/** What the reasons and the diff read of a decision's final state (never change it). */
export interface ScheduleView {
  readonly liveCount: number;
  machineId(m: Slot): string;
}

export class ScheduleState implements LoadSource, ScheduleView {
  /** Machines by slot (undefined: a slot whose machine is gone). */
  readonly machines: Array<Machine | undefined>;
  load: Int32Array;
  /** Slot -> position in machine-id order; undefined when slots are in id order. */
  rank: Int32Array | undefined = undefined;
  liveCount: number;
  protected readonly index = new Map<string, Slot>();
  protected lowerIndex: Map<string, Slot> | undefined;
  readonly all: MachineGroup;
  protected readonly groups = new Map<string, MachineGroup>();
  protected readonly heaped: MachineGroup[] = [];
  protected metadataIndex: Map<string, Map<string, Slot[]>> | undefined;
  onMove: MoveListener | undefined;

  /** One decision over these machines: slots in machine-id order. */
  constructor(machines: readonly Machine[], capacity = 0) {
    const unique = new Map<string, Machine>();
    for (const m of machines) if (!unique.has(m.id)) unique.set(m.id, m);
    this.machines = [...unique.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (this.machines.length >= MAX_MACHINES) throw new Error(`at most ${MAX_MACHINES - 1} machines are supported`);
    this.machines.forEach((m, i) => this.index.set((m as Machine).id, asSlot(i)));
    this.liveCount = this.machines.length;
    this.load = new Int32Array(Math.max(this.machines.length, capacity));
    this.all = new MachineGroup([], undefined, this);
  }

  machineIndex(id: string): Slot | undefined {
    const slot = this.index.get(id);
    return slot !== undefined && this.machines[slot] !== undefined ? slot : undefined;
  }

  machineId(m: Slot): string {
    return (this.machines[m] as Machine).id;
  }

  isLive(m: Slot): boolean {
    return this.machines[m] !== undefined;
  }

  liveSlots(): Slot[] {
    const out: Slot[] = [];
    this.machines.forEach((m, i) => {
      if (m !== undefined) out.push(asSlot(i));
    });
    return out;
  }

  /** True when machine a comes before machine b in machine-id order. */
  idBefore(a: Slot, b: Slot): boolean {
    return a < b;
  }

  /** The MachineID requirement for this id: its live machine (compared without regard to case), or "not-live". */
  requiredMachine(id: string): RequiredMachine {
    const exact = this.machineIndex(id);
    if (exact !== undefined) return exact;
    if (this.lowerIndex === undefined) {
      const lower = new Map<string, Slot>();
      this.machines.forEach((m, i) => {
        if (m !== undefined && !lower.has(m.id.toLowerCase())) lower.set(m.id.toLowerCase(), asSlot(i));
      });
      this.lowerIndex = lower;
    }
    return this.lowerIndex.get(id.toLowerCase()) ?? "not-live";
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

  private matchingMachines(requirement: MetadataRequirement): Slot[] {
    if (this.metadataIndex === undefined) {
      const index = new Map<string, Map<string, Slot[]>>();
      this.machines.forEach((machine, i) => {
        if (machine === undefined) return;
        for (const [key, value] of Object.entries(machine.metadata)) {
          let byValue = index.get(key);
          if (!byValue) index.set(key, (byValue = new Map()));
          const list = byValue.get(value);
          if (list) list.push(asSlot(i));
          else byValue.set(value, [asSlot(i)]);
        }
      });
      this.metadataIndex = index;
    }
    let result: Set<Slot> | undefined;
    for (const [key, values] of requirement) {
      const byValue = this.metadataIndex.get(key);
      const matching = new Set<Slot>();
      for (const value of values) {
        for (const m of byValue?.get(value) ?? []) if (result === undefined || result.has(m)) matching.add(m);
      }
      result = matching;
      if (result.size === 0) break;
    }
    return [...(result ?? [])].sort((a, b) => a - b);
  }

  /** The least-loaded machine of the group (smallest id among equals) that `accept`s. */
  leastLoaded(group: MachineGroup, accept: (m: Slot) => boolean): Slot | undefined {
    this.beforeLeastLoaded(group);
    if (group.heap === undefined) {
      group.heap = this.newHeap(group);
      if (!this.heaped.includes(group)) this.heaped.push(group);
    }
    return group.heap.first(accept);
  }

  /** Hook for the incremental state: rank machines, drop a heap gone stale. */
  protected beforeLeastLoaded(_group: MachineGroup): void {}

  protected newHeap(group: MachineGroup): LoadHeap {
    return new LoadHeap(group.members(), this);
  }

  add(rec: UnitRec, m: Slot): void {
    rec.machine = m;
    this.load[m] = (this.load[m] as number) + 1;
    for (const g of rec.ownPatterns) g.holdersOn.set(m, (g.holdersOn.get(m) ?? 0) + 1);
    for (const g of rec.matchedBy) g.matchesOn.set(m, (g.matchesOn.get(m) ?? 0) + 1);
    this.onMove?.(rec, undefined, m);
  }

  remove(rec: UnitRec): void {
    const m = rec.machine;
    if (m === undefined) return;
    rec.machine = undefined;
    this.load[m] = (this.load[m] as number) - 1;
    for (const g of rec.ownPatterns) decrement(g.holdersOn, m);
    for (const g of rec.matchedBy) decrement(g.matchesOn, m);
    for (const group of this.heaped) if (group.has(m)) group.heap?.pushMachine(m);
    this.onMove?.(rec, m, undefined);
  }
}

function decrement(counts: Map<Slot, number>, m: Slot): void {
  const n = (counts.get(m) ?? 0) - 1;
  if (n > 0) counts.set(m, n);
  else counts.delete(m);
}

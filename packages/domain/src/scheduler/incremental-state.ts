// The incremental scheduler's state: ScheduleState whose machines come and go between
// decisions. Slots never move (a machine id keeps its slot for the state's lifetime), so the
// machine-id order is a rank per slot, recomputed when machines come or go; heaps collect
// stale entries of machines that left and are rebuilt when ranks change or stale entries
// outnumber the machines.
import type { Machine } from "../types.js";
import { LoadHeap, MAX_MACHINES } from "./load-heap.js";
import { machineMatchesMetadata } from "./metadata-match.js";
import type { MachineGroup } from "./machine-group.js";
import { ScheduleState } from "./schedule-state.js";
import { asSlot, type Slot } from "./unit-record.js";

export class IncrementalScheduleState extends ScheduleState {
  private ranked = true;

  constructor() {
    super([], 16);
    this.rank = new Int32Array(this.load.length);
  }

  override idBefore(a: Slot, b: Slot): boolean {
    if (!this.ranked) this.rankMachines();
    const rank = this.rank as Int32Array;
    return (rank[a] as number) < (rank[b] as number);
  }

  /** Adds or updates a live machine; returns its slot and the groups it joined or left. */
  putMachine(machine: Machine): { slot: Slot; joined: MachineGroup[]; left: MachineGroup[]; added: boolean } {
    let slot = this.index.get(machine.id);
    const added = slot === undefined || this.machines[slot] === undefined;
    if (slot === undefined) {
      slot = asSlot(this.machines.length);
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
  dropMachine(id: string): { slot: Slot; left: MachineGroup[] } | undefined {
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

  protected override beforeLeastLoaded(group: MachineGroup): void {
    if (!this.ranked) this.rankMachines();
    // A long-lived heap collects stale entries; rebuild it when they outnumber the machines.
    if (group.heap !== undefined && group.heap.size > 4 * group.size + 64) group.heap = undefined;
  }

  protected override newHeap(group: MachineGroup): LoadHeap {
    return new LoadHeap(group.members(), this, (m) => this.isLive(m) && group.has(m));
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
  private rankMachines(): void {
    this.ranked = true;
    const live = this.liveSlots().sort((a, b) => {
      const x = this.machineId(a);
      const y = this.machineId(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const rank = this.rank as Int32Array;
    live.forEach((slot, i) => (rank[slot] = i));
    // Entries of a machine that left keep their old rank: the heaps are rebuilt on next use.
    for (const g of this.heaped) g.heap = undefined;
  }
}

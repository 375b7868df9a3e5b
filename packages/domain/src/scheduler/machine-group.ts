// The machines satisfying one MachineMetadata requirement, shared by the units that state it,
// with a lazy load heap over them (built on first use by ScheduleState.leastLoaded).
import type { LoadHeap } from "./load-heap.js";
import type { MetadataRequirement } from "./metadata-match.js";
import type { Slot } from "./unit-record.js";

/** What a group reads of the state when it stands for every live machine. */
export interface LiveMachines {
  readonly liveCount: number;
  liveSlots(): Slot[];
}

export class MachineGroup {
  heap: LoadHeap | undefined;

  constructor(
    readonly requirement: MetadataRequirement,
    /** Eligible machine slots; undefined: every live machine. */
    private readonly membership: Set<Slot> | undefined,
    private readonly live: LiveMachines,
  ) {}

  has(m: Slot): boolean {
    return this.membership === undefined || this.membership.has(m);
  }

  /** How many live machines are eligible. */
  get size(): number {
    return this.membership === undefined ? this.live.liveCount : this.membership.size;
  }

  members(): Slot[] {
    return this.membership === undefined ? this.live.liveSlots() : [...this.membership];
  }

  /** A machine joined or left (incremental state only). Returns whether membership changed. */
  setMember(m: Slot, member: boolean): boolean {
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

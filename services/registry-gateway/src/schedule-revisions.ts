// When each machine's schedule (what GetMachineSchedule answers it: its units, the global units,
// its own record) last changed, so that a heartbeat's answer can tell the agent whether the
// schedule it holds is still current and its periodic pass need not read it again. Pure: fed
// the cache's committed batches in order.
//
// A revision is never lower than the true one: the revision of the gateway's initial load of etcd
// counts as a change for every machine, so an agent that fails over to another gateway reads its
// schedule again at most once.
import { isGlobalUnit } from "@fleet/domain";
import type { CacheChange } from "./registry-cache.js";

/** Whose schedule a change alters: some machines, and/or every machine (a global unit). */
export function scheduleConcerns(change: CacheChange, machineOf: (unit: string) => string): { machines: string[]; all: boolean } {
  switch (change.kind) {
    case "unit": {
      const machine = machineOf(change.name);
      const all = [change.before, change.after].some((u) => u !== undefined && isGlobalUnit(u.options));
      return { machines: machine ? [machine] : [], all };
    }
    case "schedule":
      return { machines: [change.before?.machineId ?? "", change.after?.machineId ?? ""].filter((id) => id !== ""), all: false };
    case "machine":
      return { machines: [change.id], all: false };
    default:
      return { machines: [], all: false };
  }
}

export class ScheduleRevisions {
  private readonly byMachine = new Map<string, number>();
  /** The newest change of a global unit, and the revision of the gateway's initial load. */
  private everyone = 0;

  /** The gateway loaded etcd at `revision`: nothing before it is known change by change. */
  loaded(revision: number): void {
    this.everyone = Math.max(this.everyone, revision);
  }

  /** One committed batch; `machineOf` gives a unit's machine as the cache holds it after the batch. */
  note(changes: readonly CacheChange[], revision: number, machineOf: (unit: string) => string): void {
    if (this.everyone === 0) this.everyone = revision;
    for (const change of changes) {
      const { machines, all } = scheduleConcerns(change, machineOf);
      if (all) this.everyone = revision;
      for (const id of machines) this.byMachine.set(id, revision);
    }
  }

  /** The newest revision at which the machine's schedule changed; 0 before the load (unknown). */
  of(machineId: string): number {
    return Math.max(this.everyone, this.byMachine.get(machineId) ?? 0);
  }
}

// Placements: written by the engine leader only, in fenced batches (leader-fence.ts) that also
// check the machines the leader believes gone are still unregistered; read by agents as their
// machine's schedule.
import { assertMachineId, assertValidUnitName, FleetError, type Placement, type Unit } from "@fleet/domain";
import { created, del, put, range, rangeResult, writeFencedBatch } from "./etcd-ops.js";
import type { Keys } from "./keys.js";
import { leaderFence, notLeader } from "./leader-fence.js";
import type { RegistryStore } from "./registry-store.js";

export class ScheduleRecords {
  constructor(
    private readonly store: RegistryStore,
    private readonly keys: Keys,
  ) {}

  /**
   * Writes placements (machineId "" with reason "" deletes one) if `fence` is still the
   * leadership key's create revision and none of `absentMachines` is registered (both compared in
   * each chunk's transaction). Fails with failed-precondition for a deposed leader, aborted for a
   * machine registered again.
   */
  async apply(candidateId: string, fence: number, placements: readonly Placement[], absentMachines: readonly string[] = []): Promise<number> {
    for (const p of placements) {
      assertValidUnitName(p.unitName);
      if (p.machineId) assertMachineId(p.machineId);
    }
    for (const id of absentMachines) assertMachineId(id);
    const absent = [...new Set(absentMachines)];
    const ops = placements.map((p) =>
      p.machineId === "" && p.reason === "" ? del(this.keys.schedule(p.unitName)) : put(this.keys.schedule(p.unitName), { machineId: p.machineId, reason: p.reason }),
    );
    const leader = this.keys.leader();
    return writeFencedBatch(this.store, {
      compare: [...leaderFence(this.keys, candidateId, fence), ...absent.map((id) => created(this.keys.machine(id), 0))],
      ops,
      failure: [leader, ...absent.map((id) => this.keys.machine(id))].map(range),
      // Re-sent after a failed attempt only without absent machines: the leadership key cannot
      // change under a live term, but a machine can register between two attempts and turn an
      // applied write into an ABORTED answer.
      op: absent.length > 0 ? "txn-once" : "txn-idempotent",
      refused: (res, written) => {
        const leaderKv = rangeResult(res, 0);
        if (leaderKv?.value.toString() !== candidateId || Number(leaderKv.create_revision) !== fence) return notLeader(candidateId, fence);
        const back = absent.filter((_, j) => rangeResult(res, j + 1) !== undefined);
        const what = written === 0 ? "nothing was written" : `only the first ${written} placements were written`;
        return new FleetError("aborted", `machine ${back.join(", ")} is registered again; ${what}`);
      },
    });
  }

  /** The agent's view: units placed on the machine plus every global unit (globals decided by the agent). */
  machineSchedule(machineId: string): Unit[] {
    const cache = this.store.cache;
    const names = new Set([...(cache.byMachine.get(machineId) ?? []), ...cache.globals]);
    const out: Unit[] = [];
    for (const name of names) {
      const unit = cache.units.get(name)?.value;
      if (unit) out.push(unit);
    }
    return out;
  }
}

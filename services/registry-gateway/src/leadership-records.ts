// The engine's leadership: one key under a lease, created if absent (its create revision is the
// term's fence), renewed while it still names the candidate, dropped with its lease; and the
// leader's engine status, written under the fence.
import { assertMachineId, FleetError } from "@fleet/domain";
import { created, put, range, rangeResult } from "./etcd-ops.js";
import type { Keys } from "./keys.js";
import { leaderFence, notLeader } from "./leader-fence.js";
import { assertCandidateId } from "./record-rules.js";
import type { EngineStatusRecord } from "./record-codecs.js";
import type { RegistryStore, TxnResult } from "./registry-store.js";

export class LeadershipRecords {
  constructor(
    private readonly store: RegistryStore,
    private readonly keys: Keys,
  ) {}

  /** Makes the candidate the leader unless there is one; the term's fence is the key's create revision. */
  async acquire(candidateId: string, ttlSeconds: number): Promise<{ elected: boolean; leaderId: string; leaseId: string; fence: number }> {
    assertCandidateId(candidateId);
    const current = this.store.cache.leader;
    if (current) return { elected: false, leaderId: current.value, leaseId: "0", fence: 0 };
    const leaseId = await this.store.grantLease(Math.max(1, Math.ceil(ttlSeconds)));
    const key = this.keys.leader();
    let res: TxnResult;
    try {
      res = await this.store.txn({ compare: [created(key, 0)], success: [put(key, candidateId, leaseId)], failure: [range(key)] }, "txn-once");
    } catch (err) {
      // Whether or not it made this candidate the leader, the lease goes: the candidate never hears of it.
      await this.store.revokeLease(leaseId);
      throw err;
    }
    if (!res.succeeded) {
      await this.store.revokeLease(leaseId);
      return { elected: false, leaderId: rangeResult(res, 0)?.value.toString() ?? "", leaseId: "0", fence: 0 };
    }
    // The key was created by this transaction: its create revision, the fence, is the txn's revision.
    await this.store.waitForRevision(res.revision);
    return { elected: true, leaderId: candidateId, leaseId, fence: res.revision };
  }

  /** Refreshes the term's lease; false when the candidate no longer leads under that fence. */
  async renew(candidateId: string, leaseId: string, fence: number): Promise<boolean> {
    const current = this.store.cache.leader;
    if (current && (current.value !== candidateId || current.createRevision !== fence)) {
      // The cache may lag (the term began through another gateway): etcd decides.
      const kv = await this.store.get(this.keys.leader());
      if (kv?.value !== candidateId || kv.createRevision !== fence) return false;
    }
    return this.store.keepAlive(leaseId);
  }

  async resign(candidateId: string, leaseId: string, fence: number): Promise<void> {
    const current = this.store.cache.leader;
    if (current && current.value === candidateId && current.createRevision === fence) await this.store.revokeLease(leaseId);
  }

  /** Stores the leader's liveness report (engine/status), fenced like placements. */
  async reportEngineStatus(candidateId: string, fence: number, status: EngineStatusRecord): Promise<number> {
    for (const h of status.heldMachines) assertMachineId(h.machineId);
    if (status.massLoss.length > 4096 || status.heldMachines.length > 100_000) throw new FleetError("invalid-argument", "engine status too large");
    const res = await this.store.txn(
      {
        compare: leaderFence(this.keys, candidateId, fence),
        success: [put(this.keys.engineStatus(), { massLoss: status.massLoss, heldMachines: status.heldMachines })],
      },
      "txn-idempotent",
    );
    if (!res.succeeded) throw notLeader(candidateId, fence);
    return res.revision;
  }
}

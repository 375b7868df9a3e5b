// The engine's edge: snapshots and fenced writes through the registry-gateway.
import { machineFromWire, placementFromWire, placementToWire, RegistryConnection, unary, unitFromWire } from "@fleet/wire";
import type { ClusterSnapshot, Placement } from "@fleet/domain";
import type { SchedulePlanner } from "./engine.js";
import type { LeadershipApi, Term } from "./leadership.js";

export class GatewayPlanner extends RegistryConnection implements SchedulePlanner, LeadershipApi {
  async snapshot(): Promise<ClusterSnapshot> {
    const res = await unary(this.client.getClusterSnapshot.bind(this.client), { minRevision: this.minRevision });
    return {
      units: res.units.map(unitFromWire),
      placements: res.placements.map(placementFromWire),
      machines: res.machines.map(machineFromWire),
    };
  }

  async apply(candidateId: string, term: Term, placements: readonly Placement[]): Promise<void> {
    const res = await unary(this.client.applySchedule.bind(this.client), {
      candidateId,
      fence: term.fence,
      placements: placements.map(placementToWire),
    });
    this.observe(res.revision);
  }

  async acquire(candidateId: string, ttlSeconds: number): Promise<{ elected: boolean; leaderId: string; term?: Term }> {
    const res = await unary(this.client.acquireLeadership.bind(this.client), { candidateId, ttlSeconds: Math.ceil(ttlSeconds) }, { deadlineMs: 5000 });
    return res.elected ? { elected: true, leaderId: res.leaderId, term: { leaseId: res.leaseId, fence: res.fence } } : { elected: false, leaderId: res.leaderId };
  }

  async renew(candidateId: string, term: Term): Promise<boolean> {
    const res = await unary(this.client.renewLeadership.bind(this.client), { candidateId, leaseId: term.leaseId, fence: term.fence }, { deadlineMs: 3000 });
    return res.stillLeader;
  }

  async resign(candidateId: string, term: Term): Promise<void> {
    await unary(this.client.resignLeadership.bind(this.client), { candidateId, leaseId: term.leaseId, fence: term.fence }, { deadlineMs: 2000 });
  }
}

// Fakes of the engine's edges, for its tests: the gateway's cluster stream and its planner API.
import { applyPlacements, FleetError, type ClusterSnapshot, type Machine, type Placement, type Unit, type UnitOption, type UnitState } from "@fleet/domain";
import type { ClusterEvent, ClusterSource } from "./cluster-replica.js";
import type { EngineStatus, MachineLease, SchedulePlanner } from "./engine.js";
import type { LeadershipApi, Term } from "./leadership.js";

export function makeUnit(name: string, extra: readonly UnitOption[] = []): Unit {
  return { name, options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }, ...extra], hash: `hash-of-${name}`, desiredState: "launched" };
}

export function hexMachine(n: number): Machine {
  return { id: n.toString(16).padStart(32, "0"), publicIp: `10.0.0.${n}`, metadata: {} };
}

/** The snapshot with the changes written (as the gateway would store them). */
export function applyChanges(s: ClusterSnapshot, changes: readonly Placement[]): ClusterSnapshot {
  return { ...s, placements: applyPlacements(s.placements, changes) };
}

/** A WatchCluster stand-in: the test pushes events and ends streams. */
export class FakeClusterSource implements ClusterSource {
  streams: Array<{ minRevision: number; onEvent: (e: ClusterEvent) => void; onEnd: (err: Error | undefined) => void; cancelled: boolean }> = [];

  watch(minRevision: number, onEvent: (e: ClusterEvent) => void, onEnd: (err: Error | undefined) => void): () => void {
    const stream = { minRevision, onEvent, onEnd, cancelled: false };
    this.streams.push(stream);
    return () => {
      stream.cancelled = true;
      onEnd(undefined);
    };
  }

  get last(): FakeClusterSource["streams"][number] {
    const s = this.streams[this.streams.length - 1];
    if (!s) throw new Error("no stream opened");
    return s;
  }

  snapshot(revision: number, s: ClusterSnapshot): void {
    this.last.onEvent({ revision, snapshot: true, delta: { units: s.units, placements: s.placements, machines: s.machines } });
  }
}

/**
 * A planner that keeps the cluster in memory: records every write, answers leases and states
 * from what the test sets, and refuses a write whose absent machines are registered (ABORTED).
 */
export class RecordingPlanner implements SchedulePlanner, LeadershipApi {
  minRevision = 0;
  applied: Array<{ placements: Placement[]; absentMachines: string[] }> = [];
  leases: MachineLease[] = [];
  states: UnitState[] = [];
  leaseReads = 0;
  statuses: EngineStatus[] = [];
  constructor(public cluster: ClusterSnapshot) {}

  async apply(_candidate: string, _term: Term, placements: readonly Placement[], absentMachines: readonly string[] = []): Promise<number> {
    const back = absentMachines.find((id) => this.cluster.machines.some((m) => m.id === id));
    if (back) throw new FleetError("aborted", `machine ${back} is registered again`);
    this.applied.push({ placements: [...placements], absentMachines: [...absentMachines] });
    this.cluster = applyChanges(this.cluster, placements);
    return ++this.minRevision;
  }
  async machineLeases(): Promise<MachineLease[]> {
    this.leaseReads++;
    return this.leases;
  }
  async unitStates(names: readonly string[]): Promise<UnitState[]> {
    return this.states.filter((s) => names.includes(s.name));
  }
  async reportStatus(_candidate: string, _term: Term, status: EngineStatus): Promise<void> {
    this.statuses.push(status);
  }
  async acquire(candidateId: string): Promise<{ elected: boolean; leaderId: string; term?: Term }> {
    return { elected: true, leaderId: candidateId, term: { leaseId: "1", fence: 1 } };
  }
  async renew(): Promise<boolean> {
    return true;
  }
  async resign(): Promise<void> {}
}

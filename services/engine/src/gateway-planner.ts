// The engine's edge: the cluster stream, snapshots and fenced writes through the registry-gateway.
import {
  clusterChangeFromWire,
  connect,
  gatewayEndpoints,
  placementToWire,
  RegistryConnection,
  RegistryServiceClient,
  streamFeed,
  unary,
  unitStateFromWire,
  type WatchClusterResponse,
} from "@fleet/wire";
import type { Placement, UnitState } from "@fleet/domain";
import type { ClusterEvent, ClusterSource } from "./cluster-replica.js";
import type { EngineStatus, MachineLease, SchedulePlanner } from "./engine.js";
import type { LeadershipApi, Term } from "./leadership.js";
import { mergeMachineLeases } from "./lease-merge.js";

export function clusterEventFromWire(res: WatchClusterResponse): ClusterEvent {
  const { revision, snapshot, requestIds, ...delta } = clusterChangeFromWire(res);
  return { revision, snapshot, delta, ...(requestIds.length > 0 ? { requestIds } : {}) };
}

export class GatewayPlanner extends RegistryConnection implements SchedulePlanner, LeadershipApi, ClusterSource {
  private readonly endpoints: readonly string[];
  private perGateway: RegistryServiceClient[] | undefined;

  constructor(endpoints: string | readonly string[]) {
    super(endpoints);
    this.endpoints = gatewayEndpoints(endpoints);
  }

  watch(minRevision: number, onEvent: (event: ClusterEvent) => void, onEnd: (err: Error | undefined) => void): () => void {
    const open = (from: number) => this.client.watchCluster({ minRevision: Math.max(from, this.minRevision), withStates: false });
    const map = (res: WatchClusterResponse) => {
      this.observe(res.revision);
      return clusterEventFromWire(res);
    };
    return streamFeed(open, map, "the gateway closed the cluster watch").watch(minRevision, onEvent, onEnd);
  }

  async apply(candidateId: string, term: Term, placements: readonly Placement[], absentMachines: readonly string[] = []): Promise<number> {
    const res = await unary(this.client.applySchedule.bind(this.client), {
      candidateId,
      fence: term.fence,
      placements: placements.map(placementToWire),
      absentMachines: [...absentMachines],
    });
    this.observe(res.revision);
    return res.revision;
  }

  async reportStatus(candidateId: string, term: Term, status: EngineStatus): Promise<void> {
    const res = await unary(
      this.client.reportEngineStatus.bind(this.client),
      { candidateId, fence: term.fence, status: { massLoss: status.massLoss, heldMachines: status.heldMachines.map((h) => ({ ...h })) } },
      { deadlineMs: 3000 },
    );
    this.observe(res.revision);
  }

  /**
   * The registered machines' leases. With several gateways, every one is asked for the machines
   * it hears (from its memory), then one of them for the rest (etcd's leases: the machines no
   * gateway hears), and the answers are merged (lease-merge.ts). Fails when the rest cannot be
   * read; a gateway that does not answer only leaves its machines to etcd's word.
   */
  async machineLeases(): Promise<MachineLease[]> {
    const toLease = (l: { machineId: string; remainingMs: number; grantedMs: number; heard: boolean }) => ({
      machineId: l.machineId,
      remainingMs: Number(l.remainingMs),
      grantedMs: Number(l.grantedMs),
      heard: l.heard,
    });
    const ask = (c: RegistryServiceClient, heardOnly: boolean, except: string[]) =>
      unary(c.getMachineLeases.bind(c), { machineIds: [], heardOnly, exceptMachineIds: except }, { deadlineMs: 3000 }).then((res) => res.leases.map(toLease));
    if (this.endpoints.length <= 1) return mergeMachineLeases([await ask(this.client, false, [])]);
    const answers = await Promise.allSettled(this.eachGateway().map((c) => ask(c, true, [])));
    const heard = answers.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
    const heardIds = [...new Set(heard.flat().map((l) => l.machineId))];
    const rest = await ask(this.client, false, heardIds);
    return mergeMachineLeases([...heard, rest]);
  }

  /** A client of each gateway alone (made once), for what each knows by itself. */
  private eachGateway(): RegistryServiceClient[] {
    this.perGateway ??= this.endpoints.map((e) => connect(RegistryServiceClient, e));
    return this.perGateway;
  }

  override close(): void {
    for (const c of this.perGateway ?? []) c.close();
    super.close();
  }

  async unitStates(unitNames: readonly string[]): Promise<UnitState[]> {
    const res = await unary(this.client.listUnitStates.bind(this.client), { machineId: "", unitNames: [...unitNames], minRevision: this.minRevision }, { deadlineMs: 3000 });
    return res.states.map(unitStateFromWire);
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

// The agent's edge to the registry-gateway.
import {
  connect,
  machineToWire,
  RegistryServiceClient,
  unary,
  unitFromWire,
  unitStateToWire,
} from "@fleet/wire";
import type { Machine, Unit, UnitState } from "@fleet/domain";
import type { AgentRegistry } from "./agent.js";

export class GatewayRegistry implements AgentRegistry {
  private readonly client: RegistryServiceClient;
  private minRevision = 0;

  constructor(address: string) {
    this.client = connect(RegistryServiceClient, address);
  }

  observe(revision: number): void {
    this.minRevision = Math.max(this.minRevision, revision);
  }

  async register(machine: Machine, ttlSeconds: number): Promise<string> {
    const res = await unary(this.client.registerMachine.bind(this.client), { machine: machineToWire(machine), ttlSeconds: Math.ceil(ttlSeconds) });
    this.observe(res.revision);
    return res.leaseId;
  }

  async heartbeat(machineId: string, leaseId: string): Promise<boolean> {
    const res = await unary(this.client.machineHeartbeat.bind(this.client), { machineId, leaseId }, { deadlineMs: 3000 });
    return res.alive;
  }

  async schedule(machineId: string): Promise<Unit[]> {
    const res = await unary(this.client.getMachineSchedule.bind(this.client), { machineId, minRevision: this.minRevision });
    return res.units.map(unitFromWire);
  }

  async report(machineId: string, leaseId: string, states: UnitState[], removed: string[]): Promise<void> {
    await unary(this.client.reportUnitStates.bind(this.client), { machineId, leaseId, states: states.map(unitStateToWire), removed });
  }

  close(): void {
    this.client.close();
  }
}

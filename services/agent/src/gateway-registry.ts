// The agent's edge to the registry-gateway.
import { machineFromWire, machineToWire, RegistryConnection, unary, unitFromWire, unitStateToWire } from "@fleet/wire";
import type { Machine, Unit, UnitState } from "@fleet/domain";
import type { AgentRegistry } from "./agent.js";
import { HeartbeatStream } from "./heartbeat-stream.js";

type Schedule = { units: Unit[]; machine?: Machine };

export class GatewayRegistry extends RegistryConnection implements AgentRegistry {
  /** A heartbeat's deadline: a hung one counts as failed in time for a retry to renew the lease. */
  heartbeatDeadlineMs = 3000;
  private readonly heartbeats = new HeartbeatStream(() => this.client.machineHeartbeats());

  async register(machine: Machine, ttlSeconds: number, instance: string): Promise<string> {
    const res = await unary(this.client.registerMachine.bind(this.client), { machine: machineToWire(machine), ttlSeconds: Math.ceil(ttlSeconds), instance });
    this.observe(res.revision);
    return res.leaseId;
  }

  async unregister(machineId: string, leaseId: string): Promise<boolean> {
    const res = await unary(this.client.unregisterMachine.bind(this.client), { machineId, leaseId }, { deadlineMs: 5000 });
    this.observe(res.revision);
    return res.unregistered;
  }

  /** Over the MachineHeartbeats stream (heartbeat-stream.ts): one message per heartbeat. */
  async heartbeat(machineId: string, leaseId: string): Promise<boolean> {
    return (await this.heartbeats.beat(machineId, leaseId, this.heartbeatDeadlineMs)).alive;
  }

  override close(): void {
    this.heartbeats.close();
    super.close();
  }

  async schedule(machineId: string): Promise<Schedule> {
    const res = await unary(this.client.getMachineSchedule.bind(this.client), { machineId, minRevision: this.minRevision });
    const machine = res.machines.find((m) => m.id === machineId);
    return { units: res.units.map(unitFromWire), ...(machine ? { machine: machineFromWire(machine) } : {}) };
  }

  async report(machineId: string, leaseId: string, states: UnitState[], removed: string[]): Promise<void> {
    await unary(this.client.reportUnitStates.bind(this.client), { machineId, leaseId, states: states.map(unitStateToWire), removed });
  }
}

// The agent's edge to the registry-gateway.
import { DEFAULT_DEADLINE_MS, machineFromWire, machineToWire, RegistryConnection, unary, unitFromWire, unitStateToWire } from "@fleet/wire";
import type { Machine, Unit, UnitState } from "@fleet/domain";
import type { AgentRegistry } from "./agent.js";
import { HeartbeatStream } from "./heartbeat-stream.js";
import { heldScheduleIsCurrent } from "./schedule-freshness.js";

type Schedule = { units: Unit[]; machine?: Machine };

export class GatewayRegistry extends RegistryConnection implements AgentRegistry {
  /** A heartbeat's deadline: a hung one counts as failed in time for a retry to renew the lease. */
  heartbeatDeadlineMs = 3000;
  /** How recent a heartbeat must be for its schedule revision to spare a read (timeFor: agent_ttl / 2). */
  scheduleFreshForMs = 2500;
  /** The longest a schedule is reused, however current heartbeats say it is. */
  scheduleMaxHeldMs = 60_000;
  private readonly heartbeats = new HeartbeatStream(() => this.client.machineHeartbeats());
  /** The last schedule read, and what the last heartbeat said of it (schedule-freshness.ts). */
  private held: { machineId: string; revision: number; at: number; schedule: Schedule } | undefined;
  private heard = { revision: 0, at: 0 };

  constructor(
    endpoints: string | readonly string[],
    spreadKey?: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    super(endpoints, spreadKey);
  }

  async register(machine: Machine, ttlSeconds: number, instance: string): Promise<string> {
    const res = await unary(this.client.registerMachine.bind(this.client), { machine: machineToWire(machine), ttlSeconds: Math.ceil(ttlSeconds), instance });
    this.observe(res.revision);
    this.held = undefined;
    return res.leaseId;
  }

  async unregister(machineId: string, leaseId: string): Promise<boolean> {
    const res = await unary(this.client.unregisterMachine.bind(this.client), { machineId, leaseId }, { deadlineMs: 5000 });
    this.observe(res.revision);
    return res.unregistered;
  }

  /** Over the MachineHeartbeats stream (heartbeat-stream.ts): one message per heartbeat. */
  async heartbeat(machineId: string, leaseId: string): Promise<boolean> {
    // The last answer stands while this one is in flight (scheduleFreshForMs bounds its age);
    // a failed heartbeat, or a lease gone, vouches for nothing.
    try {
      const { alive, scheduleRevision } = await this.heartbeats.beat(machineId, leaseId, this.heartbeatDeadlineMs);
      this.heard = alive ? { revision: scheduleRevision, at: this.now() } : { revision: 0, at: 0 };
      return alive;
    } catch (err) {
      this.heard = { revision: 0, at: 0 };
      throw err;
    }
  }

  /**
   * The timings that follow from agent_ttl (main.ts and the scale bench's simulated machines).
   * A heartbeat that hangs must not hold the next one back for long: the retries (backoff
   * capped at agent_ttl/6) keep the lease alive through one lost call. Not shorter than the
   * heartbeat interval either: on a machine whose cores are busy a renewal may take a second or
   * more and still be in time, and failing it would only add load. A pass reuses the schedule
   * it holds while a heartbeat within agent_ttl/2 says it is current.
   */
  timeFor(ttlMs: number): this {
    this.heartbeatDeadlineMs = Math.min(3000, Math.max(1000, ttlMs / 3));
    this.scheduleFreshForMs = ttlMs / 2;
    return this;
  }

  override close(): void {
    this.heartbeats.close();
    super.close();
  }

  /** The machine's schedule: the one held when the last heartbeat says it is current, else read
   * (on the heartbeat stream when its gateway answers reads there, else by GetMachineSchedule). */
  async schedule(machineId: string): Promise<Schedule> {
    const held = this.held;
    const current =
      held?.machineId === machineId &&
      heldScheduleIsCurrent({
        heldRevision: held.revision,
        heardRevision: this.heard.revision,
        heardAgoMs: this.now() - this.heard.at,
        freshForMs: this.scheduleFreshForMs,
        minRevision: this.minRevision,
        heldAgoMs: this.now() - held.at,
        maxHeldMs: this.scheduleMaxHeldMs,
      });
    if (held && current) return held.schedule;
    // On the heartbeat stream when its gateway answers reads there (a message, not a call).
    const res = this.heartbeats.acceptsScheduleReads
      ? await this.heartbeats.readSchedule(machineId, this.minRevision, DEFAULT_DEADLINE_MS)
      : await unary(this.client.getMachineSchedule.bind(this.client), { machineId, minRevision: this.minRevision });
    const machine = res.machines.find((m) => m.id === machineId);
    const schedule = { units: res.units.map(unitFromWire), ...(machine ? { machine: machineFromWire(machine) } : {}) };
    this.held = { machineId, revision: res.revision, at: this.now(), schedule };
    return schedule;
  }

  /**
   * On the heartbeat stream when its gateway said it takes reports there (a message instead of a
   * call, for the gateway and for the agent), else by ReportUnitStates; either fails the same way.
   */
  async report(machineId: string, leaseId: string, states: UnitState[], removed: string[]): Promise<void> {
    if (this.heartbeats.acceptsReports) return this.heartbeats.report(machineId, leaseId, states, removed, DEFAULT_DEADLINE_MS);
    await unary(this.client.reportUnitStates.bind(this.client), { machineId, leaseId, states: states.map(unitStateToWire), removed });
  }
}

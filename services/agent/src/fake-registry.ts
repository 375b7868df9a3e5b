// An in-memory AgentRegistry for tests of the agent: a schedule the test sets, leases the
// test can expire, calls the test can fail or hold, and the states the agent reported.
import { FleetError, type Machine, type Unit, type UnitState } from "@fleet/domain";
import type { AgentRegistry } from "./agent.js";

export class FakeAgentRegistry implements AgentRegistry {
  units: Unit[] = [];
  /** The machine as the scheduler sees it (metadata changed through the API); undefined: as registered. */
  machine: Machine | undefined;
  /** The latest state reported per unit; removed units are deleted. */
  readonly states = new Map<string, UnitState>();
  /** Every report's states, in order. */
  readonly reports: UnitState[][] = [];
  registrations = 0;
  /** Registrations asked for, refused ones included. */
  registrationAttempts = 0;
  heartbeats = 0;
  /** While set, every call fails with it, as with no gateway or etcd reachable (UNAVAILABLE). */
  failure: Error | undefined;
  /** Runs inside each call before it answers (e.g. to hold it, or to let the test clock run). */
  delay: (call: "register" | "heartbeat" | "unregister" | "schedule" | "report") => Promise<void> | void = () => {};
  private lease = "";

  /** Another machine's agent (this instance) holds the machine id: a registration by any other
   * instance is refused, as the gateway refuses a duplicate machine id. */
  heldBy: string | undefined;
  /** The instance of the last registration, and every unregister call. */
  instance: string | undefined;
  readonly unregistered: string[] = [];
  /** The machine as last registered. */
  registered: Machine | undefined;

  async register(_machine: Machine, _ttlSeconds: number, instance: string): Promise<string> {
    this.registrationAttempts++;
    await this.enter("register");
    if (this.heldBy !== undefined && this.heldBy !== instance) {
      throw new FleetError("already-exists", `machine id ${_machine.id} is already registered by another machine (10.0.0.99)`);
    }
    this.instance = instance;
    this.registered = _machine;
    this.registrations++;
    this.lease = `lease-${this.registrations}`;
    this.states.clear();
    return this.lease;
  }

  async heartbeat(_machineId: string, leaseId: string): Promise<boolean> {
    await this.enter("heartbeat");
    this.heartbeats++;
    return leaseId === this.lease;
  }

  async unregister(_machineId: string, leaseId: string): Promise<boolean> {
    await this.enter("unregister");
    this.unregistered.push(leaseId);
    if (leaseId !== this.lease) return false;
    this.expireLease();
    return true;
  }

  async schedule(): Promise<{ units: Unit[]; machine?: Machine }> {
    await this.enter("schedule");
    return this.machine ? { units: this.units, machine: this.machine } : { units: this.units };
  }

  async report(_machineId: string, leaseId: string, states: UnitState[], removed: string[]): Promise<void> {
    await this.enter("report");
    if (leaseId !== this.lease) throw new Error("lease lapsed");
    this.reports.push(states);
    for (const s of states) this.states.set(s.name, s);
    for (const r of removed) this.states.delete(r);
  }

  /** The lease lapses, as when the agent was partitioned for longer than agent_ttl. */
  expireLease(): void {
    this.lease = "";
    this.states.clear();
  }

  private async enter(call: "register" | "heartbeat" | "unregister" | "schedule" | "report"): Promise<void> {
    await this.delay(call);
    if (this.failure) throw this.failure;
  }
}

// An in-memory AgentRegistry for tests of the agent: a schedule the test sets, leases the
// test can expire, calls the test can fail or hold, and the states the agent reported.
import type { Machine, Unit, UnitState } from "@fleet/domain";
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
  heartbeats = 0;
  /** While set, every call fails with it, as with no gateway or etcd reachable (UNAVAILABLE). */
  failure: Error | undefined;
  /** Runs inside each call before it answers (e.g. to hold it, or to let the test clock run). */
  delay: (call: "register" | "heartbeat" | "schedule" | "report") => Promise<void> | void = () => {};
  private lease = "";

  async register(_machine: Machine): Promise<string> {
    await this.enter("register");
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

  private async enter(call: "register" | "heartbeat" | "schedule" | "report"): Promise<void> {
    await this.delay(call);
    if (this.failure) throw this.failure;
  }
}

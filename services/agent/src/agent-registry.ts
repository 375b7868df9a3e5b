// What the agent asks of the registry (the gateway: gateway-registry.ts; tests: fake-registry.ts).
import type { Machine, Unit, UnitState } from "@fleet/domain";
import type { LeaseRegistry } from "./machine-lease.js";

export interface AgentRegistry extends LeaseRegistry {
  /** Units placed on the machine plus every global unit, and the machine as the scheduler sees it. */
  schedule(machineId: string): Promise<{ units: Unit[]; machine?: Machine }>;
  report(machineId: string, leaseId: string, states: UnitState[], removed: string[]): Promise<void>;
}

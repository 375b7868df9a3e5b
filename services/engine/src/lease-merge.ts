// The machines' leases as the engine reads them with several gateways: each gateway answers for
// every registered machine, from its own memory for the machines whose heartbeats it hears
// (`heard`: the time until it would declare the machine silent) and from etcd's lease for the
// others (granted for twice agent_ttl and renewed by the gateway that hears the machine, so it
// looks healthy until that gateway revokes it). A machine's word is the gateway's that hears it;
// when two do (the agent moved between them), the later heartbeat's; when none does, etcd's.
// Pure.
import type { MachineLease } from "./engine.js";

export interface GatewayLease extends MachineLease {
  readonly heard: boolean;
}

export function mergeMachineLeases(answers: ReadonlyArray<readonly GatewayLease[]>): MachineLease[] {
  const best = new Map<string, GatewayLease>();
  for (const answer of answers) {
    for (const lease of answer) {
      const held = best.get(lease.machineId);
      if (!held || better(lease, held)) best.set(lease.machineId, lease);
    }
  }
  return [...best.values()].map(({ machineId, remainingMs, grantedMs }) => ({ machineId, remainingMs, grantedMs }));
}

/** Heard beats not heard; between two heard (or two not), the one with more time left. */
function better(a: GatewayLease, b: GatewayLease): boolean {
  if (a.heard !== b.heard) return a.heard;
  return a.remainingMs / a.grantedMs > b.remainingMs / b.grantedMs;
}

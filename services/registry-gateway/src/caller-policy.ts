// Who may call the gateway, under mutual TLS (each caller's certificate common name): the
// control plane (the api, engines, other gateways: gateway_control_plane_identities) may call
// everything; an agent, whose certificate names its machine id, may only register, heart-beat,
// read the schedule of and report the states of its own machine; a certificate every agent shares
// (gateway_agent_identities, where one per machine cannot be issued, as on Kubernetes) may make
// the agents' calls for any machine; anyone else nothing. Without mutual TLS every caller is
// trusted, as on a loopback development cluster. Pure.
import { isMachineId } from "@fleet/domain";

export type Caller =
  | { readonly kind: "trusted" }
  | { readonly kind: "control-plane"; readonly name: string }
  | { readonly kind: "agent"; readonly machineId: string }
  | { readonly kind: "shared-agent"; readonly name: string }
  | { readonly kind: "stranger"; readonly name: string };

/** RegistryService methods an agent calls, each with the machine id its request is about. */
export const AGENT_METHODS: Readonly<Record<string, (request: Record<string, unknown>) => string>> = {
  registerMachine: (r) => String((r.machine as { id?: unknown } | undefined)?.id ?? ""),
  unregisterMachine: (r) => String(r.machineId ?? ""),
  machineHeartbeat: (r) => String(r.machineId ?? ""),
  machineHeartbeats: (r) => String(r.machineId ?? ""),
  reportUnitStates: (r) => String(r.machineId ?? ""),
  getMachineSchedule: (r) => String(r.machineId ?? ""),
};

/** The certificate names the gateway knows besides machine ids. */
export interface CallerIdentities {
  /** gateway_control_plane_identities */
  readonly controlPlane: ReadonlySet<string>;
  /** gateway_agent_identities */
  readonly sharedAgents: ReadonlySet<string>;
}

export function callerOf(commonName: string | undefined, mutualTls: boolean, identities: CallerIdentities): Caller {
  if (!mutualTls) return { kind: "trusted" };
  if (commonName && identities.controlPlane.has(commonName)) return { kind: "control-plane", name: commonName };
  if (commonName && isMachineId(commonName)) return { kind: "agent", machineId: commonName };
  if (commonName && identities.sharedAgents.has(commonName)) return { kind: "shared-agent", name: commonName };
  return { kind: "stranger", name: commonName ?? "" };
}

/**
 * Why `caller` may not call `method` (about `machineId`, for the agents' methods: undefined when
 * the request is not read yet, as at a stream's start), or undefined when it may.
 */
export function refusal(caller: Caller, method: string, machineId?: string): string | undefined {
  if (caller.kind === "trusted" || caller.kind === "control-plane") return undefined;
  if (caller.kind === "stranger") return `${caller.name ? `certificate ${JSON.stringify(caller.name)}` : "a caller without a certificate"} may not call the registry-gateway`;
  if (caller.kind === "shared-agent") return method in AGENT_METHODS ? undefined : `agent certificate ${JSON.stringify(caller.name)} may not call ${method}`;
  if (!(method in AGENT_METHODS)) return `the agent of machine ${caller.machineId} may not call ${method}`;
  if (machineId !== undefined && machineId !== caller.machineId) return `the agent of machine ${caller.machineId} may not act for machine ${machineId || "(none)"}`;
  return undefined;
}

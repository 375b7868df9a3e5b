// Whether an agent may register its machine id: fleet 1.0 created a machine's key only if it was
// absent (etcd's prevExist=false), so a second machine with the same id was refused for as long
// as the first kept its key alive. Here the same, with one difference: an agent that restarts
// (same machine, its old lease still alive) replaces its own registration at once instead of
// waiting out agent_ttl, told apart by the instance id it keeps in /run for one boot of its
// machine. Pure.

/** The registration etcd holds for the machine id (its key's value and lease). */
export interface ExistingRegistration {
  readonly instance: string;
  readonly publicIp: string;
  readonly lease: string;
}

export interface RegistrationRequest {
  readonly machineId: string;
  readonly instance: string;
  readonly publicIp: string;
}

export type RegistrationDecision =
  /** No registration: create the key if it is still absent. */
  | { readonly kind: "create" }
  /** Replace the registration held under `lease` (compared in the write), and revoke that lease. */
  | { readonly kind: "replace"; readonly lease: string; readonly why: string }
  /** Another machine holds this id: nothing is written. */
  | { readonly kind: "refuse"; readonly message: string };

export function decideRegistration(existing: ExistingRegistration | undefined, request: RegistrationRequest): RegistrationDecision {
  if (!existing) return { kind: "create" };
  if (existing.instance === request.instance) return { kind: "replace", lease: existing.lease, why: "the same agent registers again" };
  // An agent that sends no instance (older than this check) cannot be told apart: it replaces,
  // as before. Nor can a registration made by one: its agent restarting as a newer one (an
  // upgrade) takes it over.
  if (request.instance === "") return { kind: "replace", lease: existing.lease, why: "the agent sends no instance" };
  if (existing.instance === "") return { kind: "replace", lease: existing.lease, why: "the registration carries no instance" };
  const here = request.publicIp ? ` (this one: ${request.publicIp})` : "";
  return {
    kind: "refuse",
    message:
      `machine id ${request.machineId} is already registered by another machine (${existing.publicIp || "no public IP"})${here}: ` +
      `two machines share one /etc/machine-id; this registration is refused until that machine's lease lapses`,
  };
}

/** The instance and public IP of a stored machine record (its JSON value). */
export function registrationOf(value: string, lease: string): ExistingRegistration {
  let r: unknown;
  try {
    r = JSON.parse(value);
  } catch {
    r = undefined;
  }
  const field = (name: string): string => {
    const v = typeof r === "object" && r !== null ? (r as Record<string, unknown>)[name] : undefined;
    return typeof v === "string" ? v : "";
  };
  return { instance: field("instance"), publicIp: field("publicIp"), lease };
}

// Names of a cluster's host processes. Pure: fleet-dev's kill/restart take either a machine
// name or one of these, so machines may not be called like a component.

/** Names given to n replicas of a kind: the bare kind when n = 1 (existing tests and
 * scripts say "etcd", "registry-gateway"), kind-1..kind-n otherwise. */
export function replicaNames(kind: "etcd" | "registry-gateway", n: number): string[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${kind}: need at least one, got ${n}`);
  return n === 1 ? [kind] : Array.from({ length: n }, (_, i) => `${kind}-${i + 1}`);
}

/** Engines are always numbered: engine-1..engine-n. */
export function engineNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `engine-${i + 1}`);
}

const COMPONENT_NAME_RE = /^(etcd|nats|api|registry-gateway|engine)(-\d+)?$/;

/** Could this be the name of a component (now or with other --etcd-members/--gateways)? A
 * machine with such a name would make `fleet-dev kill NAME` ambiguous. */
export function isComponentName(name: string): boolean {
  return COMPONENT_NAME_RE.test(name);
}

// The etcd key layout, under a prefix (etcd_key_prefix, default /fleet/):
//
//   unit/<name>                  Unit JSON {name, options, hash, desiredState}
//   schedule/<name>              {machineId, reason}: the engine's placement
//   machine/<id>                 Machine JSON, attached to the agent's lease
//   machine-metadata/<id>        {set, removed}: metadata changed through the API; no lease, so
//                                it outlives the machine leaving and rejoining
//   state/<machine-id>/<name>    UnitState JSON, attached to the same lease
//   engine/leader                the leading engine's id, attached to its lease
//   engine/status                the leader's view of the machines' liveness (EngineStatus JSON)
//   heartbeat-claim/<id>         the id of the gateway the machine heart-beats through, attached
//                                to the machine's lease (heartbeat-watch.ts); not cached
//   token/<id>                   an API token (TokenRecord JSON: its secret only hashed), under a
//                                lease when it lapses; not cached (read from etcd per request)
//   audit/<ms>-<rand>            an audit entry (AuditEntry JSON), under a lease of the
//                                retention window; not cached

export type RegistryKey =
  | { readonly kind: "unit"; readonly name: string }
  | { readonly kind: "schedule"; readonly name: string }
  | { readonly kind: "machine"; readonly id: string }
  | { readonly kind: "machine-metadata"; readonly id: string }
  | { readonly kind: "state"; readonly machineId: string; readonly name: string }
  | { readonly kind: "leader" }
  | { readonly kind: "engine-status" };

export class Keys {
  constructor(readonly prefix: string) {}

  unit(name: string): string {
    return `${this.prefix}unit/${name}`;
  }
  schedule(name: string): string {
    return `${this.prefix}schedule/${name}`;
  }
  machine(id: string): string {
    return `${this.prefix}machine/${id}`;
  }
  machineMetadata(id: string): string {
    return `${this.prefix}machine-metadata/${id}`;
  }
  state(machineId: string, name: string): string {
    return `${this.prefix}state/${machineId}/${name}`;
  }
  heartbeatClaim(machineId: string): string {
    return `${this.prefix}heartbeat-claim/${machineId}`;
  }
  token(id: string): string {
    return `${this.prefix}token/${id}`;
  }
  tokens(): string {
    return `${this.prefix}token/`;
  }
  /** An audit entry's key: sorted by time (ms, 15 digits), then a random part. */
  audit(atMs: number, rand: string): string {
    return `${this.prefix}audit/${String(Math.max(0, Math.floor(atMs))).padStart(15, "0")}-${rand}`;
  }
  audits(): string {
    return `${this.prefix}audit/`;
  }
  leader(): string {
    return `${this.prefix}engine/leader`;
  }
  engineStatus(): string {
    return `${this.prefix}engine/status`;
  }

  /** What a key under the prefix means; undefined for keys fleet does not own. */
  parse(key: string): RegistryKey | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const rest = key.slice(this.prefix.length);
    const slash = rest.indexOf("/");
    if (slash < 0) return undefined;
    const kind = rest.slice(0, slash);
    const tail = rest.slice(slash + 1);
    if (tail === "") return undefined;
    switch (kind) {
      case "unit":
        return { kind: "unit", name: tail };
      case "schedule":
        return { kind: "schedule", name: tail };
      case "machine":
        return { kind: "machine", id: tail };
      case "machine-metadata":
        return { kind: "machine-metadata", id: tail };
      case "state": {
        const i = tail.indexOf("/");
        if (i <= 0 || i === tail.length - 1) return undefined;
        return { kind: "state", machineId: tail.slice(0, i), name: tail.slice(i + 1) };
      }
      case "engine":
        return tail === "leader" ? { kind: "leader" } : tail === "status" ? { kind: "engine-status" } : undefined;
      default:
        return undefined;
    }
  }
}

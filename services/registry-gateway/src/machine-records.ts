// Machines: registration under a lease (create-if-absent, decided by machine-registration.ts
// when the key exists), unregistration, heartbeats, metadata changes kept apart from the
// registration, and what etcd says of their leases.
import { assertMachineId, assertMachineMetadataSize, FleetError, isFleetError, type Machine } from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import { cachedRead, created, del, leased, modified, put, range, rangeResult } from "./etcd-ops.js";
import type { Keys } from "./keys.js";
import { decideRegistration, registrationOf } from "./machine-registration.js";
import { applyOverride } from "./record-codecs.js";
import { assertLeaseId, assertMetadata, assertRegistration } from "./record-rules.js";
import { LEASE_TTL_FACTOR } from "./heartbeat-deadlines.js";
import type { HeartbeatVia, HeartbeatWatch } from "./heartbeat-watch.js";
import { mapLimit } from "./map-limit.js";
import type { RegistryStore } from "./registry-store.js";

/** Lease look-ups machineLeases has in flight at once. */
const LEASE_LOOKUPS = 32;

export class MachineRecords {
  constructor(
    private readonly store: RegistryStore,
    private readonly keys: Keys,
    private readonly log: Logger,
    /** Hears heartbeats, renews leases when due, revokes silent machines' (heartbeat-watch.ts). */
    readonly heartbeats: HeartbeatWatch,
  ) {}

  /**
   * Registers the machine under a new lease, unless another machine holds its id (see
   * machine-registration.ts): the machine key is created only if absent; when it exists, what it
   * holds decides: the agent's own registration (the same instance) is replaced, compared on the
   * lease it is under; another machine's refuses the registration (ALREADY_EXISTS) and revokes
   * the lease just granted. A write that lost a race is decided again from what etcd then holds.
   */
  async register(machine: Machine, ttlSeconds: number, instance = ""): Promise<{ leaseId: string; revision: number }> {
    assertMachineId(machine.id);
    assertRegistration(ttlSeconds, instance);
    const key = this.keys.machine(machine.id);
    const record = { publicIp: machine.publicIp, metadata: machine.metadata, agentEndpoint: machine.agentEndpoint ?? "", ...(instance ? { instance } : {}) };
    // One LeaseGrant per registration: never re-sent after an attempt that may have reached etcd.
    // Granted for LEASE_TTL_FACTOR × agent_ttl: the gateway revokes it after agent_ttl of silence,
    // etcd's lapse is the backstop for a gateway that died (heartbeat-deadlines.ts).
    const leaseId = await this.store.grantLease(Math.ceil(ttlSeconds * LEASE_TTL_FACTOR));
    try {
      let guard = created(key, 0);
      let replacing: string | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        // Safe to re-send: a second attempt after an applied first fails its compare and finds
        // the key under this very lease.
        const res = await this.store.txn(
          // The heartbeat claim is written with it (heartbeat-watch.ts): the agent's heartbeats
          // come here first, and need not claim the machine again.
          {
            compare: [guard],
            success: [{ request_put: { ...put(key, record, leaseId).request_put, prev_kv: true } }, put(this.keys.heartbeatClaim(machine.id), this.heartbeats.gatewayId, leaseId)],
            failure: [range(key)],
          },
          "txn-idempotent",
        );
        const held = res.succeeded ? undefined : rangeResult(res, 0);
        if (res.succeeded || (held !== undefined && String(held.lease) === leaseId)) {
          // The replaced lease still holds the unit states of the previous registration: drop
          // them, the agent reports afresh under its new lease.
          const replaced = res.response.responses[0]?.response_put?.prev_kv?.lease;
          for (const old of new Set([replacing, replaced === undefined ? undefined : String(replaced)])) {
            if (old && old !== "0" && old !== leaseId) {
              this.heartbeats.forget(old);
              await this.store.revokeLease(old);
            }
          }
          this.heartbeats.registered(machine.id, leaseId, (Math.ceil(ttlSeconds * LEASE_TTL_FACTOR) * 1000) / LEASE_TTL_FACTOR);
          return { leaseId, revision: res.revision };
        }
        const existing = held ? registrationOf(held.value.toString(), String(held.lease)) : undefined;
        const decision = decideRegistration(existing, { machineId: machine.id, instance, publicIp: machine.publicIp });
        if (decision.kind === "refuse") {
          this.log.warn({ machine: machine.id, publicIp: machine.publicIp, heldBy: existing?.publicIp }, "registration refused: another machine holds this machine id");
          throw new FleetError("already-exists", decision.message);
        }
        guard = decision.kind === "create" ? created(key, 0) : leased(key, decision.lease);
        replacing = decision.kind === "replace" ? decision.lease : undefined;
      }
      throw new FleetError("unavailable", `machine ${machine.id} kept being registered by someone else meanwhile; try again`);
    } catch (err) {
      // The agent never hears of this lease: revoke it rather than leave it to lapse.
      if (!isFleetError(err, "already-exists")) this.log.warn({ machine: machine.id, lease: leaseId, err: (err as Error).message }, "registration failed; revoking its lease");
      await this.store.revokeLease(leaseId);
      throw err;
    }
  }

  /**
   * Takes the machine out of the cluster at once (its agent stops): deletes its key if it is
   * registered under this lease, then revokes the lease, and with it the unit states under it.
   * Another agent's registration of the same id is left alone. Safe to re-send.
   */
  async unregister(machineId: string, leaseId: string): Promise<{ revision: number; unregistered: boolean }> {
    assertMachineId(machineId);
    assertLeaseId(leaseId);
    const key = this.keys.machine(machineId);
    const res = await this.store.txn({ compare: [leased(key, leaseId)], success: [del(key)], failure: [range(key)] }, "txn-idempotent");
    // A re-sent attempt after an applied one finds no key: unregistered all the same.
    const unregistered = res.succeeded || rangeResult(res, 0) === undefined;
    this.heartbeats.forget(leaseId);
    await this.store.revokeLease(leaseId);
    return { revision: res.revision, unregistered };
  }

  /** Sets and removes metadata keys of a machine; kept apart from its registration. */
  async setMetadata(machineId: string, set: Readonly<Record<string, string>>, remove: readonly string[]): Promise<number> {
    assertMachineId(machineId);
    for (const [k, v] of Object.entries(set)) assertMetadata(k, v);
    for (const k of remove) assertMetadata(k, "");
    const cache = this.store.cache;
    // A machine the registry has never seen is no error, as in fleet 1.0 (which stored the keys
    // under the machine's id whatever): the change waits and applies when the machine registers.
    await cachedRead(this.store, () => cache.metadataOverrides.get(machineId));
    const key = this.keys.machineMetadata(machineId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = cache.metadataOverrides.get(machineId);
      const next = {
        set: Object.fromEntries(Object.entries({ ...current?.value.set, ...set }).filter(([k]) => !remove.includes(k))),
        removed: [...new Set([...(current?.value.removed ?? []).filter((k) => !(k in set)), ...remove])],
      };
      // Over its limits as the machine would then show it (its own metadata changed so).
      const own = cache.machines.get(machineId)?.value.metadata ?? {};
      assertMachineMetadataSize(machineId, applyOverride(own, next));
      // Safe to re-send: a retry after the first attempt applied fails its compare, and the
      // next pass writes the same metadata again.
      const res = await this.store.txn({ compare: [current ? modified(key, current.modRevision) : created(key, 0)], success: [put(key, next)] }, "txn-idempotent");
      await this.store.waitForRevision(res.revision);
      if (res.succeeded) return res.revision;
    }
    throw new FleetError("unavailable", `metadata of ${machineId} kept changing; try again`);
  }

  /**
   * A machine's heartbeat: its lease is renewed when due (heartbeat-watch.ts). False only on etcd's word: the lease is gone (keep-alive TTL 0),
   * or etcd has the machine under another lease or none. When the cache disagrees, etcd is asked
   * (another gateway may have registered the machine a moment ago, or this one lost etcd); when
   * etcd cannot be reached the call fails (UNAVAILABLE), so the agent retries instead of
   * registering again.
   */
  async heartbeat(machineId: string, leaseId: string, via: HeartbeatVia = "call"): Promise<boolean> {
    assertMachineId(machineId);
    if (this.store.cache.machines.get(machineId)?.lease !== leaseId) {
      const kv = await this.store.get(this.keys.machine(machineId));
      if (kv?.lease !== leaseId) return false;
    }
    return this.heartbeats.heartbeat(machineId, leaseId, via);
  }

  /**
   * How much of registered machines' leases remains (all of them when machineIds is empty): for
   * machines heart-beating through this gateway, the time until it would declare them silent, out
   * of agent_ttl (no request); for the others what etcd says (remaining and granted TTL, 2 ×
   * agent_ttl), looked up in parallel, LEASE_LOOKUPS at a time, each with its deadline and retries.
   * Machines not registered, or whose lease etcd no longer has, are left out.
   */
  async leases(
    machineIds: readonly string[],
    options: { heardOnly?: boolean; except?: readonly string[] } = {},
  ): Promise<Array<{ machineId: string; remainingMs: number; grantedMs: number; heard: boolean }>> {
    for (const id of [...machineIds, ...(options.except ?? [])]) assertMachineId(id);
    const machines = this.store.cache.machines;
    const except = new Set(options.except ?? []);
    const ids = (machineIds.length > 0 ? [...new Set(machineIds)] : [...machines.keys()].sort()).filter((id) => !except.has(id));
    const wanted = ids.flatMap((machineId) => {
      const lease = machines.get(machineId)?.lease;
      return lease && lease !== "0" ? [{ machineId, lease }] : [];
    });
    const found = await mapLimit(wanted, LEASE_LOOKUPS, async ({ machineId, lease }) => {
      // Machines heart-beating through this gateway: it knows when it last heard them.
      const known = this.heartbeats.knownLease(machineId, lease);
      if (known) return { machineId, ...known, heard: true };
      if (options.heardOnly) return undefined;
      const ttl = await this.store.leaseTimeToLive(lease);
      return ttl ? { machineId, remainingMs: ttl.ttlSeconds * 1000, grantedMs: ttl.grantedSeconds * 1000, heard: false } : undefined;
    });
    return found.filter((l) => l !== undefined);
  }
}

// The registry's operations over etcd: validated writes as transactions, reads from the watch
// cache. Errors are FleetErrors with messages for users.
import type { ICompare, IRequestOp } from "etcd3";
import { FleetError, isFleetError, type Logger } from "@fleet/wire";
import {
  parseUnitName,
  unitHash,
  unitNameError,
  unitOptionValueError,
  xFleetError,
  type Machine,
  type Placement,
  type TargetState,
  type Unit,
  type UnitOption,
  type UnitState,
} from "@fleet/domain";
import type { EtcdStore } from "./etcd-store.js";
import type { Keys } from "./keys.js";
import { decideRegistration, registrationOf } from "./machine-registration.js";
import { decodeUnit, type EngineStatusRecord, type RegistryCache } from "./registry-cache.js";

/** etcd's default --max-txn-ops is 128: larger batches are split, each part fenced alike. */
const MAX_TXN_OPS = 100;
/** Units one CreateUnits request may create. */
export const MAX_CREATE_UNITS = 1000;
const MACHINE_ID = /^[0-9a-f]{32}$/;
/** Lease look-ups GetMachineLeases has in flight at once. */
const LEASE_LOOKUPS = 32;

const b = (s: string) => Buffer.from(s);
const put = (key: string, value: unknown, lease?: string): IRequestOp => ({
  request_put: { key: b(key), value: b(typeof value === "string" ? value : JSON.stringify(value)), ...(lease ? { lease } : {}) },
});
const del = (key: string): IRequestOp => ({ request_delete_range: { key: b(key) } });
const created = (key: string, rev: number): ICompare => ({ key: b(key), target: "Create", result: "Equal", create_revision: rev });
const modified = (key: string, rev: number): ICompare => ({ key: b(key), target: "Mod", result: "Equal", mod_revision: rev });
const leased = (key: string, lease: string): ICompare => ({ key: b(key), target: "Lease", result: "Equal", lease });

export function assertUnitName(name: string): void {
  const error = unitNameError(name);
  if (error) throw new FleetError("invalid-argument", error);
}

/** fleet refuses to schedule a template (foo@.service): only its instances can run. */
export function assertSchedulable(name: string, desiredState: TargetState): void {
  if (desiredState !== "inactive" && parseUnitName(name).isTemplate) throw new FleetError("invalid-argument", `cannot activate template ${JSON.stringify(name)}`);
}

export function assertMachineId(id: string): void {
  if (!MACHINE_ID.test(id)) throw new FleetError("invalid-argument", `invalid machine id "${id}": expected 32 lowercase hex digits`);
}

function assertOptions(options: readonly UnitOption[]): void {
  if (options.length === 0) throw new FleetError("invalid-argument", "unit has no options");
  for (const o of options) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(o.section)) throw new FleetError("invalid-argument", `invalid section name "${o.section}"`);
    if (!/^[A-Za-z0-9_.:-]+$/.test(o.name)) throw new FleetError("invalid-argument", `invalid option name "${o.name}" in [${o.section}]`);
    const valueError = unitOptionValueError(o.name, o.value);
    if (valueError) throw new FleetError("invalid-argument", valueError);
  }
}

export class Registry {
  constructor(
    private readonly store: EtcdStore,
    private readonly keys: Keys,
    private readonly log: Logger,
  ) {}

  private get cache(): RegistryCache {
    return this.store.cache;
  }

  /** Waits until reads reflect at least `minRevision`. */
  async fresh(minRevision: number): Promise<void> {
    await this.store.waitForRevision(minRevision);
  }

  /**
   * Writes return as soon as etcd committed them: readers ask for the revision they need
   * (min_revision). A write that reads the cache first and misses waits for this gateway's own
   * writes to show, so a unit created here can be changed here at once.
   */
  private async cached<T>(read: () => T | undefined): Promise<T | undefined> {
    const hit = read();
    if (hit !== undefined) return hit;
    await this.store.waitForRevision(this.store.lastCommitted);
    return read();
  }

  /** A new unit's key and record, after checking its name, options, [X-Fleet] section and that a template stays inactive. */
  private newUnit(name: string, options: readonly UnitOption[], desiredState: TargetState): NewUnit {
    assertUnitName(name);
    assertOptions(options);
    const xFleet = xFleetError(name, options);
    if (xFleet) throw new FleetError("invalid-argument", xFleet);
    assertSchedulable(name, desiredState);
    const unit: Unit = { name, options, hash: unitHash(options), desiredState };
    return { unit, key: this.keys.unit(name), record: unitRecord(unit) };
  }

  /**
   * Writes the unit unless one by that name exists; `same` when the one that exists has the
   * same contents and desired state (what a retried create finds when its first attempt was
   * applied after all). So the store may send it again when an etcd member fails under it: a
   * second attempt that finds the first reports `same`, which callers take as success.
   */
  private async createIfAbsent(u: NewUnit): Promise<{ succeeded: boolean; same: boolean; revision: number }> {
    const res = await this.store.txn(
      { compare: [created(u.key, 0)], success: [put(u.key, u.record)], failure: [{ request_range: { key: b(u.key) } }] },
      "txn-idempotent",
    );
    if (res.succeeded) return { succeeded: true, same: false, revision: res.revision };
    const kv = res.response.responses[0]?.response_range?.kvs[0];
    const existing = kv ? decodeUnit(kv.value.toString(), u.unit.name) : undefined;
    const same = existing !== undefined && existing.hash === u.unit.hash && existing.desiredState === u.unit.desiredState;
    return { succeeded: false, same, revision: res.revision };
  }

  /**
   * Creates a unit. One that exists with the same contents and desired state counts as created
   * (existed: true), so a create whose outcome was unknown can be retried; other contents are
   * ALREADY_EXISTS.
   */
  async createUnit(name: string, options: readonly UnitOption[], desiredState: TargetState): Promise<{ revision: number; existed: boolean }> {
    const res = await this.createIfAbsent(this.newUnit(name, options, desiredState));
    if (res.succeeded) return { revision: res.revision, existed: false };
    if (res.same) {
      this.log.debug({ unit: name }, "unit exists with the same contents; nothing to write");
      return { revision: res.revision, existed: true };
    }
    throw new FleetError("already-exists", `unit ${name} already exists`);
  }

  /**
   * Creates the units that do not exist yet; `created[i]` says whether units[i] was. All are
   * validated before anything is written. Each chunk of MAX_TXN_OPS units is one transaction
   * when none of them exists; otherwise its units are created one by one.
   */
  async createUnits(units: ReadonlyArray<{ name: string; options: readonly UnitOption[]; desiredState: TargetState }>): Promise<{ revision: number; created: boolean[] }> {
    if (units.length > MAX_CREATE_UNITS) throw new FleetError("invalid-argument", `at most ${MAX_CREATE_UNITS} units per request, not ${units.length}`);
    const names = new Set<string>();
    const records = units.map(({ name, options, desiredState }) => {
      const record = this.newUnit(name, options, desiredState);
      if (names.has(name)) throw new FleetError("invalid-argument", `unit ${name} is given twice`);
      names.add(name);
      return record;
    });
    const outcomes: boolean[] = [];
    let revision = 0;
    for (let i = 0; i < records.length; i += MAX_TXN_OPS) {
      const chunk = records.slice(i, i + MAX_TXN_OPS);
      // Sent again when an etcd member fails under it: a second attempt that finds the first
      // one's units goes on one by one below, where those count as existing with the same contents.
      const res = await this.store.txn({ compare: chunk.map((r) => created(r.key, 0)), success: chunk.map((r) => put(r.key, r.record)) }, "txn-idempotent");
      if (res.succeeded) {
        revision = Math.max(revision, res.revision);
        for (const _ of chunk) outcomes.push(true);
        continue;
      }
      const each = await Promise.all(chunk.map((r) => this.createIfAbsent(r)));
      for (const r of each) {
        outcomes.push(r.succeeded);
        revision = Math.max(revision, r.revision);
      }
    }
    return { revision, created: outcomes };
  }

  /**
   * Creates the unit, or replaces the contents and desired state of the one by that name (fleet
   * 1.0's PUT of a unit whose options differ). Its placement stays: the engine decides again
   * against the new [X-Fleet] options, and the agent of its machine sees the new contents and
   * restarts the unit. The write compares the unit's mod revision, so a concurrent change is read
   * again, never overwritten blindly; a unit that already has these contents and this desired
   * state is left alone. Safe to re-send: an attempt after an applied one finds the unit as wanted.
   */
  async replaceUnit(name: string, options: readonly UnitOption[], desiredState: TargetState): Promise<{ revision: number; created: boolean; replaced: boolean }> {
    const u = this.newUnit(name, options, desiredState);
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.cached(() => this.cache.units.get(name));
      if (!entry) {
        const res = await this.createIfAbsent(u);
        if (res.succeeded) return { revision: res.revision, created: true, replaced: false };
        if (res.same) return { revision: res.revision, created: false, replaced: false };
        await this.store.waitForRevision(res.revision);
        continue;
      }
      if (entry.value.hash === u.unit.hash && entry.value.desiredState === desiredState) {
        return { revision: this.cache.revision, created: false, replaced: false };
      }
      const res = await this.store.txn({ compare: [modified(u.key, entry.modRevision)], success: [put(u.key, u.record)] }, "txn-idempotent");
      if (res.succeeded) {
        const replaced = entry.value.hash !== u.unit.hash;
        if (replaced) this.log.info({ unit: name, from: entry.value.hash, to: u.unit.hash, desiredState }, "unit replaced");
        return { revision: res.revision, created: false, replaced };
      }
      await this.store.waitForRevision(res.revision);
    }
    throw new FleetError("unavailable", `unit ${name} kept changing; try again`);
  }

  getUnit(name: string): { unit: Unit; placement: Placement } {
    assertUnitName(name);
    const entry = this.cache.units.get(name);
    if (!entry) throw new FleetError("not-found", `Unit ${name} not found`);
    return { unit: entry.value, placement: this.cache.placementOf(name) };
  }

  async setDesiredState(name: string, desiredState: TargetState): Promise<number> {
    assertUnitName(name);
    assertSchedulable(name, desiredState);
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.cached(() => this.cache.units.get(name));
      if (!entry) throw new FleetError("not-found", `Unit ${name} not found`);
      if (entry.value.desiredState === desiredState) return this.cache.revision;
      const key = this.keys.unit(name);
      // Safe to re-send: a retry after the first attempt applied fails its compare, and the
      // next pass finds the desired state set.
      const res = await this.store.txn(
        {
          compare: [modified(key, entry.modRevision)],
          success: [put(key, unitRecord({ ...entry.value, desiredState }))],
        },
        "txn-idempotent",
      );
      if (res.succeeded) return res.revision;
      await this.store.waitForRevision(res.revision);
    }
    throw new FleetError("unavailable", `unit ${name} kept changing; try again`);
  }

  async destroyUnit(name: string): Promise<number> {
    assertUnitName(name);
    // Not re-sent: a retry after the first attempt applied would answer "not found".
    const res = await this.store.txn(
      {
        compare: [{ key: b(this.keys.unit(name)), target: "Create", result: "Greater", create_revision: 0 }],
        success: [del(this.keys.unit(name)), del(this.keys.schedule(name))],
      },
      "txn-once",
    );
    if (!res.succeeded) throw new FleetError("not-found", `Unit ${name} not found`);
    return res.revision;
  }

  /**
   * Registers the machine under a new lease, unless another machine holds its id (see
   * machine-registration.ts): the machine key is created only if absent; when it exists, what it
   * holds decides: the agent's own registration (the same instance) is replaced, compared on the
   * lease it is under; another machine's refuses the registration (ALREADY_EXISTS) and revokes
   * the lease just granted. A write that lost a race is decided again from what etcd then holds.
   */
  async registerMachine(machine: Machine, ttlSeconds: number, instance = ""): Promise<{ leaseId: string; revision: number }> {
    assertMachineId(machine.id);
    if (!(ttlSeconds >= 1 && ttlSeconds <= 3600)) throw new FleetError("invalid-argument", "ttl must be between 1 and 3600 seconds");
    if (instance.length > 128) throw new FleetError("invalid-argument", "instance is longer than 128 characters");
    const key = this.keys.machine(machine.id);
    const record = { publicIp: machine.publicIp, metadata: machine.metadata, agentEndpoint: machine.agentEndpoint ?? "", ...(instance ? { instance } : {}) };
    // One LeaseGrant per registration: never re-sent after an attempt that may have reached etcd.
    const leaseId = await this.store.grantLease(Math.ceil(ttlSeconds));
    try {
      let guard = created(key, 0);
      let replacing: string | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        // Safe to re-send: a second attempt after an applied first fails its compare and finds
        // the key under this very lease.
        const res = await this.store.txn(
          { compare: [guard], success: [{ request_put: { ...put(key, record, leaseId).request_put, prev_kv: true } }], failure: [{ request_range: { key: b(key) } }] },
          "txn-idempotent",
        );
        const held = res.succeeded ? undefined : res.response.responses[0]?.response_range?.kvs[0];
        if (res.succeeded || (held !== undefined && String(held.lease) === leaseId)) {
          // The replaced lease still holds the unit states of the previous registration: drop
          // them, the agent reports afresh under its new lease.
          const replaced = res.response.responses[0]?.response_put?.prev_kv?.lease;
          for (const old of new Set([replacing, replaced === undefined ? undefined : String(replaced)])) {
            if (old && old !== "0" && old !== leaseId) await this.store.revokeLease(old);
          }
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
  async unregisterMachine(machineId: string, leaseId: string): Promise<{ revision: number; unregistered: boolean }> {
    assertMachineId(machineId);
    if (!/^\d+$/.test(leaseId)) throw new FleetError("invalid-argument", `invalid lease id "${leaseId}"`);
    const key = this.keys.machine(machineId);
    const res = await this.store.txn({ compare: [leased(key, leaseId)], success: [del(key)], failure: [{ request_range: { key: b(key) } }] }, "txn-idempotent");
    // A re-sent attempt after an applied one finds no key: unregistered all the same.
    const unregistered = res.succeeded || res.response.responses[0]?.response_range?.kvs[0] === undefined;
    await this.store.revokeLease(leaseId);
    return { revision: res.revision, unregistered };
  }

  /** Sets and removes metadata keys of a machine; kept apart from its registration. */
  async setMachineMetadata(machineId: string, set: Readonly<Record<string, string>>, remove: readonly string[]): Promise<number> {
    assertMachineId(machineId);
    for (const [k, v] of Object.entries(set)) assertMetadata(k, v);
    for (const k of remove) assertMetadata(k, "");
    // A machine the registry has never seen is no error, as in fleet 1.0 (which stored the keys
    // under the machine's id whatever): the change waits and applies when the machine registers.
    await this.cached(() => this.cache.metadataOverrides.get(machineId));
    const key = this.keys.machineMetadata(machineId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = this.cache.metadataOverrides.get(machineId);
      const next = {
        set: Object.fromEntries(Object.entries({ ...current?.value.set, ...set }).filter(([k]) => !remove.includes(k))),
        removed: [...new Set([...(current?.value.removed ?? []).filter((k) => !(k in set)), ...remove])],
      };
      // Safe to re-send: a retry after the first attempt applied fails its compare, and the
      // next pass writes the same metadata again.
      const res = await this.store.txn(
        {
          compare: [current ? modified(key, current.modRevision) : created(key, 0)],
          success: [put(key, next)],
        },
        "txn-idempotent",
      );
      await this.store.waitForRevision(res.revision);
      if (res.succeeded) return res.revision;
    }
    throw new FleetError("unavailable", `metadata of ${machineId} kept changing; try again`);
  }

  /**
   * Refreshes a machine's lease. False only on etcd's word: the lease is gone (keep-alive TTL 0),
   * or etcd has the machine under another lease or none. When the cache disagrees, etcd is asked
   * (another gateway may have registered the machine a moment ago, or this one lost etcd); when
   * etcd cannot be reached the call fails (UNAVAILABLE), so the agent retries instead of
   * registering again.
   */
  async heartbeat(machineId: string, leaseId: string): Promise<boolean> {
    assertMachineId(machineId);
    if (this.cache.machines.get(machineId)?.lease !== leaseId) {
      const kv = await this.store.get(this.keys.machine(machineId));
      if (kv?.lease !== leaseId) return false;
    }
    return this.store.keepAlive(leaseId);
  }

  /**
   * What etcd says of registered machines' leases (all of them when machineIds is empty):
   * looked up in parallel, LEASE_LOOKUPS at a time, each with its deadline and retries.
   * Machines not registered, or whose lease etcd no longer has, are left out.
   */
  async machineLeases(machineIds: readonly string[]): Promise<Array<{ machineId: string; remainingMs: number; grantedMs: number }>> {
    for (const id of machineIds) assertMachineId(id);
    const ids = machineIds.length > 0 ? [...new Set(machineIds)] : [...this.cache.machines.keys()].sort();
    const wanted = ids.flatMap((machineId) => {
      const lease = this.cache.machines.get(machineId)?.lease;
      return lease && lease !== "0" ? [{ machineId, lease }] : [];
    });
    const found = await mapLimit(wanted, LEASE_LOOKUPS, async ({ machineId, lease }) => {
      const ttl = await this.store.leaseTimeToLive(lease);
      return ttl ? { machineId, remainingMs: ttl.ttlSeconds * 1000, grantedMs: ttl.grantedSeconds * 1000 } : undefined;
    });
    return found.filter((l) => l !== undefined);
  }

  listStates(machineId: string, unitNames: readonly string[]): UnitState[] {
    const wanted = unitNames.length > 0 ? new Set(unitNames) : undefined;
    const machines = machineId ? [machineId] : [...this.cache.states.keys()];
    const out: UnitState[] = [];
    for (const m of machines) {
      const perMachine = this.cache.states.get(m);
      if (!perMachine) continue;
      if (wanted) {
        // Looked up by name: a few units' states cost the same in a cluster of any size.
        for (const name of wanted) {
          const entry = perMachine.get(name);
          if (entry) out.push(entry.value);
        }
      } else for (const entry of perMachine.values()) out.push(entry.value);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.machineId < b.machineId ? -1 : 1));
  }

  async reportStates(machineId: string, leaseId: string, states: readonly UnitState[], removed: readonly string[]): Promise<number> {
    assertMachineId(machineId);
    for (const s of states) assertUnitName(s.name);
    for (const name of removed) assertUnitName(name);
    const ops: IRequestOp[] = [
      ...states.map((s) =>
        put(
          this.keys.state(machineId, s.name),
          { hash: s.hash, loadState: s.loadState, activeState: s.activeState, subState: s.subState, currentState: s.currentState, ...(s.reason ? { reason: s.reason } : {}) },
          leaseId,
        ),
      ),
      ...removed.map((name) => del(this.keys.state(machineId, name))),
    ];
    let revision = this.cache.revision;
    for (let i = 0; i < ops.length; i += MAX_TXN_OPS) {
      // Puts and deletes under a compare a retry cannot flip: safe to re-send.
      const res = await this.store.txn({ compare: [leased(this.keys.machine(machineId), leaseId)], success: ops.slice(i, i + MAX_TXN_OPS) }, "txn-idempotent");
      if (!res.succeeded) throw new FleetError("failed-precondition", `machine ${machineId} is not registered under lease ${leaseId}`);
      revision = res.revision;
    }
    return revision;
  }

  /** The agent's view: units placed on the machine plus every global unit (globals decided by the agent). */
  machineSchedule(machineId: string): Unit[] {
    const names = new Set([...(this.cache.byMachine.get(machineId) ?? []), ...this.cache.globals]);
    const out: Unit[] = [];
    for (const name of names) {
      const unit = this.cache.units.get(name)?.value;
      if (unit) out.push(unit);
    }
    return out;
  }

  async acquireLeadership(candidateId: string, ttlSeconds: number): Promise<{ elected: boolean; leaderId: string; leaseId: string; fence: number }> {
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(candidateId)) throw new FleetError("invalid-argument", `invalid candidate id "${candidateId}"`);
    const current = this.cache.leader;
    if (current) return { elected: false, leaderId: current.value, leaseId: "0", fence: 0 };
    const leaseId = await this.store.grantLease(Math.max(1, Math.ceil(ttlSeconds)));
    const key = this.keys.leader();
    let res: Awaited<ReturnType<EtcdStore["txn"]>>;
    try {
      res = await this.store.txn(
        {
          compare: [created(key, 0)],
          success: [put(key, candidateId, leaseId)],
          failure: [{ request_range: { key: b(key) } }],
        },
        "txn-once",
      );
    } catch (err) {
      // Whether or not it made this candidate the leader, the lease goes: the candidate never hears of it.
      await this.store.revokeLease(leaseId);
      throw err;
    }
    if (!res.succeeded) {
      await this.store.revokeLease(leaseId);
      const kv = res.response.responses[0]?.response_range?.kvs[0];
      return { elected: false, leaderId: kv?.value.toString() ?? "", leaseId: "0", fence: 0 };
    }
    // The key was created by this transaction: its create revision, the fence, is the txn's revision.
    await this.store.waitForRevision(res.revision);
    return { elected: true, leaderId: candidateId, leaseId, fence: res.revision };
  }

  async renewLeadership(candidateId: string, leaseId: string, fence: number): Promise<boolean> {
    const current = this.cache.leader;
    if (current && (current.value !== candidateId || current.createRevision !== fence)) {
      // The cache may lag (the term began through another gateway): etcd decides.
      const kv = await this.store.get(this.keys.leader());
      if (kv?.value !== candidateId || kv.createRevision !== fence) return false;
    }
    return this.store.keepAlive(leaseId);
  }

  async resignLeadership(candidateId: string, leaseId: string, fence: number): Promise<void> {
    const current = this.cache.leader;
    if (current && current.value === candidateId && current.createRevision === fence) await this.store.revokeLease(leaseId);
  }

  /**
   * Writes placements if `fence` is still the leadership key's create revision and none of
   * `absentMachines` is registered (both compared in each chunk's transaction). Fails with
   * failed-precondition for a deposed leader, aborted for a machine registered again.
   */
  async applySchedule(candidateId: string, fence: number, placements: readonly Placement[], absentMachines: readonly string[] = []): Promise<number> {
    for (const p of placements) {
      assertUnitName(p.unitName);
      if (p.machineId) assertMachineId(p.machineId);
    }
    for (const id of absentMachines) assertMachineId(id);
    const absent = [...new Set(absentMachines)];
    const ops = placements.map((p) =>
      p.machineId === "" && p.reason === ""
        ? del(this.keys.schedule(p.unitName))
        : put(this.keys.schedule(p.unitName), { machineId: p.machineId, reason: p.reason }),
    );
    let revision = this.cache.revision;
    const leader = this.keys.leader();
    const fenced: ICompare[] = [created(leader, fence), { key: b(leader), target: "Value", result: "Equal", value: b(candidateId) }];
    const unregistered = absent.map((id) => created(this.keys.machine(id), 0));
    // Re-sent after a failed attempt only without absent machines: the leadership key cannot
    // change under a live term, but a machine can register between two attempts and turn an
    // applied write into an ABORTED answer.
    const op = absent.length > 0 ? "txn-once" : "txn-idempotent";
    for (let i = 0; i < ops.length; i += MAX_TXN_OPS) {
      const res = await this.store.txn(
        {
          compare: [...fenced, ...unregistered],
          success: ops.slice(i, i + MAX_TXN_OPS),
          failure: [leader, ...absent.map((id) => this.keys.machine(id))].map((key) => ({ request_range: { key: b(key) } })),
        },
        op,
      );
      if (!res.succeeded) {
        const [leaderKv, ...machineKvs] = res.response.responses.map((r) => r.response_range?.kvs[0]);
        if (leaderKv?.value.toString() !== candidateId || Number(leaderKv.create_revision) !== fence) {
          throw new FleetError("failed-precondition", `engine ${candidateId} is not the leader (fence ${fence})`);
        }
        const back = absent.filter((_, j) => machineKvs[j] !== undefined);
        const written = i === 0 ? "nothing was written" : `only the first ${i} placements were written`;
        throw new FleetError("aborted", `machine ${back.join(", ")} is registered again; ${written}`);
      }
      revision = res.revision;
    }
    return revision;
  }

  /** Stores the leader's liveness report (engine/status), fenced like applySchedule. */
  async reportEngineStatus(candidateId: string, fence: number, status: EngineStatusRecord): Promise<number> {
    for (const h of status.heldMachines) assertMachineId(h.machineId);
    if (status.massLoss.length > 4096 || status.heldMachines.length > 100_000) throw new FleetError("invalid-argument", "engine status too large");
    const leader = this.keys.leader();
    const res = await this.store.txn(
      {
        compare: [created(leader, fence), { key: b(leader), target: "Value", result: "Equal", value: b(candidateId) }],
        success: [put(this.keys.engineStatus(), { massLoss: status.massLoss, heldMachines: status.heldMachines })],
      },
      "txn-idempotent",
    );
    if (!res.succeeded) throw new FleetError("failed-precondition", `engine ${candidateId} is not the leader (fence ${fence})`);
    return res.revision;
  }
}

/** fn over items, at most `limit` at a time; results in the items' order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

interface NewUnit {
  readonly unit: Unit;
  readonly key: string;
  readonly record: unknown;
}

function assertMetadata(key: string, value: string): void {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(key)) throw new FleetError("invalid-argument", `invalid metadata key "${key}"`);
  if (value.length > 1024 || /[\r\n,]/.test(value)) throw new FleetError("invalid-argument", `invalid value for metadata key "${key}"`);
}

function unitRecord(unit: Unit): { options: readonly UnitOption[]; hash: string; desiredState: TargetState } {
  return { options: unit.options, hash: unit.hash, desiredState: unit.desiredState };
}

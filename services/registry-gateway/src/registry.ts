// The registry's operations over etcd: validated writes as transactions, reads from the watch
// cache. Errors are FleetErrors with messages for users.
import type { ICompare, IRequestOp } from "etcd3";
import { FleetError } from "@fleet/wire";
import {
  unitHash,
  unitNameError,
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
import type { RegistryCache } from "./registry-cache.js";

/** etcd's default --max-txn-ops is 128: larger batches are split, each part fenced alike. */
const MAX_TXN_OPS = 100;
/** Units one CreateUnits request may create. */
export const MAX_CREATE_UNITS = 1000;
const MACHINE_ID = /^[0-9a-f]{32}$/;

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

export function assertMachineId(id: string): void {
  if (!MACHINE_ID.test(id)) throw new FleetError("invalid-argument", `invalid machine id "${id}": expected 32 lowercase hex digits`);
}

function assertOptions(options: readonly UnitOption[]): void {
  if (options.length === 0) throw new FleetError("invalid-argument", "unit has no options");
  for (const o of options) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(o.section)) throw new FleetError("invalid-argument", `invalid section name "${o.section}"`);
    if (!/^[A-Za-z0-9_.:-]+$/.test(o.name)) throw new FleetError("invalid-argument", `invalid option name "${o.name}" in [${o.section}]`);
    if (/[\r\n]/.test(o.value)) throw new FleetError("invalid-argument", `value of ${o.name} contains a line break`);
  }
}

export class Registry {
  constructor(
    private readonly store: EtcdStore,
    private readonly keys: Keys,
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

  /** A new unit's key and record, after checking its name, options and [X-Fleet] section. */
  private newUnit(name: string, options: readonly UnitOption[], desiredState: TargetState): { key: string; record: unknown } {
    assertUnitName(name);
    assertOptions(options);
    const xFleet = xFleetError(name, options);
    if (xFleet) throw new FleetError("invalid-argument", xFleet);
    const unit: Unit = { name, options, hash: unitHash(options), desiredState };
    return { key: this.keys.unit(name), record: unitRecord(unit) };
  }

  /** Writes the unit unless one by that name exists. */
  private createIfAbsent(u: { key: string; record: unknown }): Promise<{ succeeded: boolean; revision: number }> {
    return this.store.txn({ compare: [created(u.key, 0)], success: [put(u.key, u.record)] });
  }

  async createUnit(name: string, options: readonly UnitOption[], desiredState: TargetState): Promise<number> {
    const res = await this.createIfAbsent(this.newUnit(name, options, desiredState));
    if (!res.succeeded) throw new FleetError("already-exists", `unit ${name} already exists`);
    return res.revision;
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
      const res = await this.store.txn({ compare: chunk.map((r) => created(r.key, 0)), success: chunk.map((r) => put(r.key, r.record)) });
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

  getUnit(name: string): { unit: Unit; placement: Placement } {
    assertUnitName(name);
    const entry = this.cache.units.get(name);
    if (!entry) throw new FleetError("not-found", `Unit ${name} not found`);
    return { unit: entry.value, placement: this.cache.placementOf(name) };
  }

  async setDesiredState(name: string, desiredState: TargetState): Promise<number> {
    assertUnitName(name);
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.cached(() => this.cache.units.get(name));
      if (!entry) throw new FleetError("not-found", `Unit ${name} not found`);
      if (entry.value.desiredState === desiredState) return this.cache.revision;
      const key = this.keys.unit(name);
      const res = await this.store.txn({
        compare: [modified(key, entry.modRevision)],
        success: [put(key, unitRecord({ ...entry.value, desiredState }))],
      });
      if (res.succeeded) return res.revision;
      await this.store.waitForRevision(res.revision);
    }
    throw new FleetError("unavailable", `unit ${name} kept changing; try again`);
  }

  async destroyUnit(name: string): Promise<number> {
    assertUnitName(name);
    const res = await this.store.txn({
      compare: [{ key: b(this.keys.unit(name)), target: "Create", result: "Greater", create_revision: 0 }],
      success: [del(this.keys.unit(name)), del(this.keys.schedule(name))],
    });
    if (!res.succeeded) throw new FleetError("not-found", `Unit ${name} not found`);
    return res.revision;
  }

  async registerMachine(machine: Machine, ttlSeconds: number): Promise<{ leaseId: string; revision: number }> {
    assertMachineId(machine.id);
    if (!(ttlSeconds >= 1 && ttlSeconds <= 3600)) throw new FleetError("invalid-argument", "ttl must be between 1 and 3600 seconds");
    const previous = this.cache.machines.get(machine.id);
    const leaseId = await this.store.grantLease(Math.ceil(ttlSeconds));
    const record = { publicIp: machine.publicIp, metadata: machine.metadata, agentEndpoint: machine.agentEndpoint ?? "" };
    const res = await this.store.txn({ success: [put(this.keys.machine(machine.id), record, leaseId)] });
    // The old lease still holds the unit states of the previous registration: drop them, the
    // agent reports afresh under its new lease.
    if (previous && previous.lease !== leaseId && previous.lease !== "0") await this.store.revokeLease(previous.lease);
    return { leaseId, revision: res.revision };
  }

  /** Sets and removes metadata keys of a machine; kept apart from its registration. */
  async setMachineMetadata(machineId: string, set: Readonly<Record<string, string>>, remove: readonly string[]): Promise<number> {
    assertMachineId(machineId);
    for (const [k, v] of Object.entries(set)) assertMetadata(k, v);
    for (const k of remove) assertMetadata(k, "");
    const known = await this.cached(() => this.cache.machines.has(machineId) || this.cache.metadataOverrides.has(machineId) || undefined);
    if (!known) {
      throw new FleetError("not-found", `Machine ${machineId} not found`);
    }
    const key = this.keys.machineMetadata(machineId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = this.cache.metadataOverrides.get(machineId);
      const next = {
        set: Object.fromEntries(Object.entries({ ...current?.value.set, ...set }).filter(([k]) => !remove.includes(k))),
        removed: [...new Set([...(current?.value.removed ?? []).filter((k) => !(k in set)), ...remove])],
      };
      const res = await this.store.txn({
        compare: [current ? modified(key, current.modRevision) : created(key, 0)],
        success: [put(key, next)],
      });
      await this.store.waitForRevision(res.revision);
      if (res.succeeded) return res.revision;
    }
    throw new FleetError("unavailable", `metadata of ${machineId} kept changing; try again`);
  }

  async heartbeat(machineId: string, leaseId: string): Promise<boolean> {
    assertMachineId(machineId);
    const entry = await this.cached(() => {
      const e = this.cache.machines.get(machineId);
      return e?.lease === leaseId ? e : undefined;
    });
    if (!entry) return false;
    return this.store.keepAlive(leaseId);
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
      const res = await this.store.txn({ compare: [leased(this.keys.machine(machineId), leaseId)], success: ops.slice(i, i + MAX_TXN_OPS) });
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
    const res = await this.store.txn({
      compare: [created(key, 0)],
      success: [put(key, candidateId, leaseId)],
      failure: [{ request_range: { key: b(key) } }],
    });
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
    if (current && (current.value !== candidateId || current.createRevision !== fence)) return false;
    return this.store.keepAlive(leaseId);
  }

  async resignLeadership(candidateId: string, leaseId: string, fence: number): Promise<void> {
    const current = this.cache.leader;
    if (current && current.value === candidateId && current.createRevision === fence) await this.store.revokeLease(leaseId);
  }

  /** Writes placements if `fence` is still the leadership key's create revision. */
  async applySchedule(candidateId: string, fence: number, placements: readonly Placement[]): Promise<number> {
    for (const p of placements) {
      assertUnitName(p.unitName);
      if (p.machineId) assertMachineId(p.machineId);
    }
    const ops = placements.map((p) =>
      p.machineId === "" && p.reason === ""
        ? del(this.keys.schedule(p.unitName))
        : put(this.keys.schedule(p.unitName), { machineId: p.machineId, reason: p.reason }),
    );
    let revision = this.cache.revision;
    for (let i = 0; i < ops.length; i += MAX_TXN_OPS) {
      const res = await this.store.txn({
        compare: [created(this.keys.leader(), fence), { key: b(this.keys.leader()), target: "Value", result: "Equal", value: b(candidateId) }],
        success: ops.slice(i, i + MAX_TXN_OPS),
      });
      if (!res.succeeded) throw new FleetError("failed-precondition", `engine ${candidateId} is not the leader (fence ${fence})`);
      revision = res.revision;
    }
    return revision;
  }
}

function assertMetadata(key: string, value: string): void {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(key)) throw new FleetError("invalid-argument", `invalid metadata key "${key}"`);
  if (value.length > 1024 || /[\r\n,]/.test(value)) throw new FleetError("invalid-argument", `invalid value for metadata key "${key}"`);
}

function unitRecord(unit: Unit): { options: readonly UnitOption[]; hash: string; desiredState: TargetState } {
  return { options: unit.options, hash: unit.hash, desiredState: unit.desiredState };
}

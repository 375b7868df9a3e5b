// Units: created if absent, replaced under a compare of their mod revision, their desired state
// set, destroyed with their placement. Reads come from the watch cache.
import { assertUnitCount, assertValidUnitName, FleetError, unitHash, type Placement, type TargetState, type Unit, type UnitOption } from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import { cachedRead, chunksBySize, created, del, exists, modified, put, range, rangeResult } from "./etcd-ops.js";
import type { Keys } from "./keys.js";
import { assertOptions, assertSchedulable } from "./record-rules.js";
import { decodeUnit } from "./record-codecs.js";
import type { RegistryStore } from "./registry-store.js";

interface NewUnit {
  readonly unit: Unit;
  readonly key: string;
  /** The record as stored (JSON), serialized once. */
  readonly record: string;
}

interface UnitRecord {
  readonly options: readonly UnitOption[];
  readonly hash: string;
  readonly desiredState: TargetState;
}

function unitRecord(unit: Unit): UnitRecord {
  return { options: unit.options, hash: unit.hash, desiredState: unit.desiredState };
}

/** How often a write that lost a race with another writer reads again and retries. */
const ATTEMPTS = 5;

export class UnitRecords {
  constructor(
    private readonly store: RegistryStore,
    private readonly keys: Keys,
    private readonly log: Logger,
  ) {}

  /** A new unit's key and record, after checking its name, options, [X-Fleet] section and that a template stays inactive. */
  private newUnit(name: string, options: readonly UnitOption[], desiredState: TargetState): NewUnit {
    assertValidUnitName(name);
    assertOptions(name, options);
    assertSchedulable(name, desiredState);
    const unit: Unit = { name, options, hash: unitHash(options), desiredState };
    return { unit, key: this.keys.unit(name), record: JSON.stringify(unitRecord(unit)) };
  }

  /**
   * Writes the unit unless one by that name exists; `same` when the one that exists has the
   * same contents and desired state (what a retried create finds when its first attempt was
   * applied after all). So the store may send it again when an etcd member fails under it: a
   * second attempt that finds the first reports `same`, which callers take as success.
   */
  private async createIfAbsent(u: NewUnit): Promise<{ succeeded: boolean; same: boolean; revision: number }> {
    const res = await this.store.txn({ compare: [created(u.key, 0)], success: [put(u.key, u.record)], failure: [range(u.key)] }, "txn-idempotent");
    if (res.succeeded) return { succeeded: true, same: false, revision: res.revision };
    const kv = rangeResult(res, 0);
    const existing = kv ? decodeUnit(kv.value.toString(), u.unit.name) : undefined;
    const same = existing !== undefined && existing.hash === u.unit.hash && existing.desiredState === u.unit.desiredState;
    return { succeeded: false, same, revision: res.revision };
  }

  /**
   * Creates a unit. One that exists with the same contents and desired state counts as created
   * (existed: true), so a create whose outcome was unknown can be retried; other contents are
   * ALREADY_EXISTS.
   */
  async create(name: string, options: readonly UnitOption[], desiredState: TargetState): Promise<{ revision: number; existed: boolean }> {
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
  async createMany(units: ReadonlyArray<{ name: string; options: readonly UnitOption[]; desiredState: TargetState }>): Promise<{ revision: number; created: boolean[] }> {
    assertUnitCount(units.length);
    const names = new Set<string>();
    const records = units.map(({ name, options, desiredState }) => {
      const record = this.newUnit(name, options, desiredState);
      if (names.has(name)) throw new FleetError("invalid-argument", `unit ${name} is given twice`);
      names.add(name);
      return record;
    });
    // The chunks write distinct keys: they go to etcd together, which commits them in one or a
    // few raft rounds instead of one round each.
    const results = await Promise.all(
      chunksBySize(records, (r) => r.key.length + r.record.length).map(async (chunk) => {
        // Sent again when an etcd member fails under it: a second attempt that finds the first
        // one's units goes on one by one below, where those count as existing with the same contents.
        const res = await this.store.txn({ compare: chunk.map((r) => created(r.key, 0)), success: chunk.map((r) => put(r.key, r.record)) }, "txn-idempotent");
        if (res.succeeded) return chunk.map(() => ({ succeeded: true, revision: res.revision }));
        return Promise.all(chunk.map((r) => this.createIfAbsent(r)));
      }),
    );
    const outcomes = results.flat().map((r) => r.succeeded);
    const revision = Math.max(0, ...results.flat().map((r) => r.revision));
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
  async replace(name: string, options: readonly UnitOption[], desiredState: TargetState): Promise<{ revision: number; created: boolean; replaced: boolean }> {
    const u = this.newUnit(name, options, desiredState);
    const cache = this.store.cache;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const entry = await cachedRead(this.store, () => cache.units.get(name));
      if (!entry) {
        const res = await this.createIfAbsent(u);
        if (res.succeeded) return { revision: res.revision, created: true, replaced: false };
        if (res.same) return { revision: res.revision, created: false, replaced: false };
        await this.store.waitForRevision(res.revision);
        continue;
      }
      if (entry.value.hash === u.unit.hash && entry.value.desiredState === desiredState) {
        return { revision: cache.revision, created: false, replaced: false };
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

  get(name: string): { unit: Unit; placement: Placement } {
    assertValidUnitName(name);
    const entry = this.store.cache.units.get(name);
    if (!entry) throw new FleetError("not-found", `Unit ${name} not found`);
    return { unit: entry.value, placement: this.store.cache.placementOf(name) };
  }

  async setDesiredState(name: string, desiredState: TargetState): Promise<number> {
    assertValidUnitName(name);
    assertSchedulable(name, desiredState);
    const cache = this.store.cache;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const entry = await cachedRead(this.store, () => cache.units.get(name));
      if (!entry) throw new FleetError("not-found", `Unit ${name} not found`);
      if (entry.value.desiredState === desiredState) return cache.revision;
      const key = this.keys.unit(name);
      // Safe to re-send: a retry after the first attempt applied fails its compare, and the
      // next pass finds the desired state set.
      const res = await this.store.txn({ compare: [modified(key, entry.modRevision)], success: [put(key, unitRecord({ ...entry.value, desiredState }))] }, "txn-idempotent");
      if (res.succeeded) return res.revision;
      await this.store.waitForRevision(res.revision);
    }
    throw new FleetError("unavailable", `unit ${name} kept changing; try again`);
  }

  /** Deletes the unit and its placement. */
  async destroy(name: string): Promise<number> {
    assertValidUnitName(name);
    // Not re-sent: a retry after the first attempt applied would answer "not found".
    const key = this.keys.unit(name);
    const res = await this.store.txn({ compare: [exists(key)], success: [del(key), del(this.keys.schedule(name))] }, "txn-once");
    if (!res.succeeded) throw new FleetError("not-found", `Unit ${name} not found`);
    return res.revision;
  }
}

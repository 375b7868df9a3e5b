// The gateway's watch cache: every fleet key of etcd, decoded, at one revision. Built from one
// range read and kept current by a watch, so reads cost etcd nothing and see a consistent
// snapshot. Pure: apply() takes events, the I/O lives in etcd-store.ts.
import { isGlobalUnit, type Machine, type Placement, type Unit, type UnitState } from "@fleet/domain";
import type { Keys, RegistryKey } from "./keys.js";
import {
  applyOverride,
  decodeEngineStatus,
  decodeMachine,
  decodeOverride,
  decodePlacement,
  decodeState,
  decodeUnit,
  type EngineStatusRecord,
  type MetadataOverride,
  type StoredPlacement,
} from "./record-codecs.js";

export interface KeyValueEvent {
  readonly type: "put" | "delete";
  readonly key: string;
  /** The value put; "" for deletes. */
  readonly value: string;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly lease: string;
}

export interface Entry<T> {
  readonly value: T;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly lease: string;
}

/** What one event changed, with the value it replaced: what hint routing needs. */
export type CacheChange =
  | { readonly kind: "unit"; readonly name: string; readonly before?: Unit; readonly after?: Unit }
  | { readonly kind: "schedule"; readonly name: string; readonly before?: StoredPlacement; readonly after?: StoredPlacement }
  | { readonly kind: "machine"; readonly id: string; readonly before?: Machine; readonly after?: Machine }
  | { readonly kind: "state"; readonly machineId: string; readonly name: string }
  | { readonly kind: "leader"; readonly before?: string; readonly after?: string };

export class RegistryCache {
  revision = 0;
  readonly units = new Map<string, Entry<Unit>>();
  /** sortedUnits(), until a unit changes. */
  private sorted: readonly Unit[] | undefined;
  readonly schedule = new Map<string, Entry<StoredPlacement>>();
  /** Names of the global units, which every agent reads besides its own. */
  readonly globals = new Set<string>();
  /** machine id -> names of the units placed on it. */
  readonly byMachine = new Map<string, Set<string>>();
  /** Machines as their agents registered them; see machine() for what everyone else sees. */
  readonly machines = new Map<string, Entry<Machine>>();
  readonly metadataOverrides = new Map<string, Entry<MetadataOverride>>();
  /** machine id -> unit name -> state. */
  readonly states = new Map<string, Map<string, Entry<UnitState>>>();
  /** unit name -> the machines that report a state for it (a unit's states cost the same at any cluster size). */
  readonly stateMachines = new Map<string, Set<string>>();
  leader: Entry<string> | undefined;
  /** The engine leader's last liveness report; nothing follows it but ListMachines. */
  engineStatus: EngineStatusRecord | undefined;

  constructor(private readonly keys: Keys) {}

  /** Applies one event; returns what changed, or undefined for keys or values it cannot read. */
  apply(event: KeyValueEvent): CacheChange | undefined {
    const key = this.keys.parse(event.key);
    if (!key) return undefined;
    const meta = { modRevision: event.modRevision, createRevision: event.createRevision, lease: event.lease };
    const put = event.type === "put";
    switch (key.kind) {
      case "unit": {
        this.sorted = undefined;
        const before = this.units.get(key.name)?.value;
        const after = put ? decodeUnit(event.value, key.name) : undefined;
        if (put && !after) return undefined;
        if (after) this.units.set(key.name, { value: after, ...meta });
        else this.units.delete(key.name);
        if (after && isGlobalUnit(after.options)) this.globals.add(key.name);
        else this.globals.delete(key.name);
        return { kind: "unit", name: key.name, before, after };
      }
      case "schedule": {
        const before = this.schedule.get(key.name)?.value;
        const after = put ? decodePlacement(event.value) : undefined;
        if (put && !after) return undefined;
        if (before?.machineId) this.byMachine.get(before.machineId)?.delete(key.name);
        if (after) {
          this.schedule.set(key.name, { value: after, ...meta });
          if (after.machineId) {
            let set = this.byMachine.get(after.machineId);
            if (!set) this.byMachine.set(after.machineId, (set = new Set()));
            set.add(key.name);
          }
        } else this.schedule.delete(key.name);
        return { kind: "schedule", name: key.name, before, after };
      }
      case "machine": {
        const before = this.machine(key.id);
        const registered = put ? decodeMachine(event.value, key.id) : undefined;
        if (put && !registered) return undefined;
        if (registered) this.machines.set(key.id, { value: registered, ...meta });
        else this.machines.delete(key.id);
        return { kind: "machine", id: key.id, before, after: this.machine(key.id) };
      }
      case "machine-metadata": {
        const before = this.machine(key.id);
        const override = put ? decodeOverride(event.value) : undefined;
        if (put && !override) return undefined;
        if (override) this.metadataOverrides.set(key.id, { value: override, ...meta });
        else this.metadataOverrides.delete(key.id);
        return { kind: "machine", id: key.id, before, after: this.machine(key.id) };
      }
      case "state": {
        let perMachine = this.states.get(key.machineId);
        if (put) {
          const state = decodeState(event.value, key.machineId, key.name);
          if (!state) return undefined;
          if (!perMachine) this.states.set(key.machineId, (perMachine = new Map()));
          perMachine.set(key.name, { value: state, ...meta });
          let machines = this.stateMachines.get(key.name);
          if (!machines) this.stateMachines.set(key.name, (machines = new Set()));
          machines.add(key.machineId);
        } else {
          perMachine?.delete(key.name);
          if (perMachine?.size === 0) this.states.delete(key.machineId);
          const machines = this.stateMachines.get(key.name);
          machines?.delete(key.machineId);
          if (machines?.size === 0) this.stateMachines.delete(key.name);
        }
        return { kind: "state", machineId: key.machineId, name: key.name };
      }
      case "leader": {
        const before = this.leader?.value;
        this.leader = put ? { value: event.value, ...meta } : undefined;
        return { kind: "leader", before, after: this.leader?.value };
      }
      case "engine-status":
        this.engineStatus = put ? decodeEngineStatus(event.value) : undefined;
        return undefined;
    }
  }

  placementOf(name: string): Placement {
    const p = this.schedule.get(name)?.value;
    return { unitName: name, machineId: p?.machineId ?? "", reason: p?.reason ?? "" };
  }

  placements(): Placement[] {
    return [...this.schedule.entries()].map(([unitName, e]) => ({ unitName, machineId: e.value.machineId, reason: e.value.reason }));
  }

  /** Every unit, sorted by name; kept until a unit changes (list pages read it at every request). */
  sortedUnits(): readonly Unit[] {
    return (this.sorted ??= [...this.units.values()].map((e) => e.value).sort((a, b) => (a.name < b.name ? -1 : 1)));
  }

  /** One unit's placement, if it has one. */
  placement(unitName: string): Placement | undefined {
    const e = this.schedule.get(unitName);
    return e ? { unitName, machineId: e.value.machineId, reason: e.value.reason } : undefined;
  }

  /** A live machine as everyone sees it: its registration with the API's metadata changes applied. */
  machine(id: string): Machine | undefined {
    const registered = this.machines.get(id)?.value;
    if (!registered) return undefined;
    const override = this.metadataOverrides.get(id)?.value;
    return override ? { ...registered, metadata: applyOverride(registered.metadata, override) } : registered;
  }

  sortedMachines(): Machine[] {
    return [...this.machines.keys()]
      .sort()
      .map((id) => this.machine(id))
      .filter((m): m is Machine => m !== undefined);
  }

  /** Every key the cache holds, with the revision it was last written at (what a re-sync compares). */
  keyRevisions(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, e] of this.units) out.set(this.keys.unit(name), e.modRevision);
    for (const [name, e] of this.schedule) out.set(this.keys.schedule(name), e.modRevision);
    for (const [id, e] of this.machines) out.set(this.keys.machine(id), e.modRevision);
    for (const [id, e] of this.metadataOverrides) out.set(this.keys.machineMetadata(id), e.modRevision);
    for (const [machineId, perMachine] of this.states) {
      for (const [name, e] of perMachine) out.set(this.keys.state(machineId, name), e.modRevision);
    }
    if (this.leader) out.set(this.keys.leader(), this.leader.modRevision);
    return out;
  }
}

/**
 * The events that bring `cache` to what a range read at one revision returned: a put for each
 * key that is new or was written since, a delete for each key the read no longer has. Pure.
 */
export function resyncEvents(cache: RegistryCache, read: readonly KeyValueEvent[], revision: number): KeyValueEvent[] {
  const held = cache.keyRevisions();
  const events: KeyValueEvent[] = [];
  for (const kv of read) {
    if (held.get(kv.key) !== kv.modRevision) events.push(kv);
    held.delete(kv.key);
  }
  for (const key of held.keys()) events.push({ type: "delete", key, value: "", modRevision: revision, createRevision: 0, lease: "0" });
  return events;
}

export type { RegistryKey };
export type { EngineStatusRecord, MetadataOverride, StoredPlacement } from "./record-codecs.js";

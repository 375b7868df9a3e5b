// The registry's records over etcd, one class per kind: validated writes as transactions
// (large ones as fenced batches, etcd-ops.ts), reads from the watch cache. Errors are
// FleetErrors with messages for users.
//
//   units         unit-records.ts        create-if-absent, replace, desired state, destroy
//   machines      machine-records.ts     registration under a lease, metadata, heartbeats
//   states        unit-state-records.ts  agents' reports under their machine's lease
//   schedule      schedule-records.ts    the leader's placements, fenced; a machine's schedule
//   leadership    leadership-records.ts  the engine's leadership key and its status
//   tokens        token-records.ts       API tokens (hashed), read from etcd per request
//   audit         audit-records.ts       the api's audit log, kept for a retention window
import type { Logger } from "@fleet/wire";
import { randomUUID } from "node:crypto";
import { HeartbeatWatch } from "./heartbeat-watch.js";
import type { Keys } from "./keys.js";
import { LeadershipRecords } from "./leadership-records.js";
import { MachineRecords } from "./machine-records.js";
import type { RegistryStore } from "./registry-store.js";
import { ScheduleRecords } from "./schedule-records.js";
import { UnitRecords } from "./unit-records.js";
import { UnitStateRecords } from "./unit-state-records.js";
import { TokenRecords } from "./token-records.js";
import { AuditRecords } from "./audit-records.js";

export interface RegistryOptions {
  /** This gateway process's id (default: a random one). */
  readonly gatewayId?: string;
  /** Whether the store follows etcd now (default: always). */
  readonly healthy?: () => boolean;
  /** Milliseconds of a monotonic clock, for liveness deadlines (default performance.now). */
  readonly now?: () => number;
  /** How long audit entries are kept, in seconds (default 7 days). */
  readonly auditRetentionSeconds?: number;
}

export class Registry {
  readonly units: UnitRecords;
  readonly machines: MachineRecords;
  readonly states: UnitStateRecords;
  readonly schedule: ScheduleRecords;
  readonly leadership: LeadershipRecords;
  readonly tokens: TokenRecords;
  readonly audit: AuditRecords;

  constructor(
    private readonly store: RegistryStore,
    keys: Keys,
    log: Logger,
    options: RegistryOptions = {},
  ) {
    this.units = new UnitRecords(store, keys, log);
    const heartbeats = new HeartbeatWatch(store, keys, log, { gatewayId: options.gatewayId ?? randomUUID(), healthy: options.healthy ?? (() => true), ...(options.now ? { now: options.now } : {}) });
    this.machines = new MachineRecords(store, keys, log, heartbeats);
    this.states = new UnitStateRecords(store, keys);
    this.schedule = new ScheduleRecords(store, keys);
    this.leadership = new LeadershipRecords(store, keys);
    this.tokens = new TokenRecords(store, keys);
    this.audit = new AuditRecords(store, keys, options.auditRetentionSeconds ?? 7 * 24 * 3600);
  }

  /**
   * Waits until reads reflect at least `minRevision`. Writes return as soon as etcd committed
   * them: readers ask for the revision they need (min_revision).
   */
  async fresh(minRevision: number): Promise<void> {
    await this.store.waitForRevision(minRevision);
  }
}

// What fleetctl needs from the cluster, in domain words. The gRPC adapter (grpc-fleet-api.ts)
// implements it against the api service; the fake beside it (fake-fleet-api.ts) lets the
// commands be tested without a server. Errors are thrown as plain Errors whose message is
// fit for the user; "not found" is a value, not an error. The api's HTTP API v1 has its own
// interface to FleetService, FleetBackend (services/api/src/http/fleet-backend.ts, which says
// why there are two): FleetErrors kept for HTTP statuses, request ids, reads by machine.
import type { Machine, TargetState, Unit, UnitState } from "@fleet/domain";

/** A unit with where the engine placed it and the state its machine reached. */
import type { UnitView } from "@fleet/domain";
export type { UnitView };

/** `systemctl status` of a unit, run on its machine. */
export interface UnitStatus {
  readonly machineId: string;
  readonly text: string;
  /** systemctl's exit code (0 active, 3 inactive, ...). */
  readonly exitCode: number;
}

export interface JournalOptions {
  readonly lines: number;
  readonly follow: boolean;
  /** journalctl's --output mode. */
  readonly output: string;
}

/** A journal being read: `done` settles when it ends (or fails); cancel() stops following. */
export interface JournalStream {
  readonly done: Promise<void>;
  cancel(): void;
}

/** A watch of units being followed: `done` settles when it ends (or fails); cancel() ends it. */
export interface UnitWatch {
  readonly done: Promise<void>;
  cancel(): void;
}

export interface MachineHealth {
  /** Set while the engine treats a loss of many machines as a fault and moves nothing. */
  readonly massLoss: string;
  readonly heldMachines: ReadonlyArray<{ readonly machineId: string; readonly reason: string }>;
}

export interface FleetApi {
  /** The unit, or undefined when there is no unit by that name. */
  getUnit(name: string): Promise<UnitView | undefined>;
  listUnits(): Promise<UnitView[]>;
  createUnit(unit: Unit): Promise<void>;
  /** Creates the unit unless one by that name exists (then changes nothing); false if it existed.
   * Absent on HTTP API v1, whose PUT would change an existing unit's desired state instead. */
  createUnitIfAbsent?(unit: Unit): Promise<boolean>;
  /** The same for many units in one request; one boolean per unit, in order. Fails as a whole
   * (nothing created) when one unit is invalid. */
  createUnitsIfAbsent?(units: readonly Unit[]): Promise<boolean[]>;
  /** Replaces the contents and desired state of the unit by that name in one write (creating it
   * if there is none); it keeps its machine. Absent (a fake): --replace destroys and creates. */
  replaceUnit?(unit: Unit): Promise<void>;
  setUnitTargetState(name: string, state: TargetState): Promise<void>;
  /** False when there was no unit by that name. */
  destroyUnit(name: string): Promise<boolean>;
  /** What the agents report; with unitNames, only the states of those units. */
  listUnitStates(unitNames?: readonly string[]): Promise<UnitState[]>;
  /**
   * Follows the units: onViews gets all of them at once, then those that change (undefined: no
   * such unit). Absent on HTTP API v1, where fleetctl polls.
   */
  watchUnits?(names: readonly string[], onViews: (views: ReadonlyMap<string, UnitView | undefined>) => void): UnitWatch;
  listMachines(): Promise<Machine[]>;
  /**
   * The engine leader's word on the machines' liveness: a mass loss (nothing moves) and machines
   * that units stay on while they do not respond. Absent on HTTP API v1.
   */
  machineHealth?(): Promise<MachineHealth>;
  /**
   * Status and journal through the api, from the agent of the unit's machine. Absent when the
   * endpoint serves none (HTTP API v1): fleetctl then uses ssh, as fleet's did.
   */
  unitStatus?(name: string): Promise<UnitStatus>;
  journal?(name: string, options: JournalOptions, onData: (text: string) => void): JournalStream;
  /** Tokens and the audit log (admin). Absent on HTTP API v1, which has none. */
  access?: AccessApi;
  close(): void;
}

/** An API token as listed (never its secret). */
export interface TokenInfo {
  readonly id: string;
  readonly role: string;
  readonly units: readonly string[];
  readonly createdAtMs: number;
  /** 0: never lapses. */
  readonly expiresAtMs: number;
  readonly createdBy: string;
}

export interface AuditEntry {
  readonly atMs: number;
  readonly who: string;
  readonly requestId: string;
  readonly action: string;
  readonly unit: string;
  readonly machineId: string;
  readonly detail: string;
  readonly ok: boolean;
}

export interface AccessApi {
  createToken(role: string, units: readonly string[], ttlSeconds: number): Promise<{ token: TokenInfo; secret: string }>;
  listTokens(): Promise<TokenInfo[]>;
  /** The id of the revoked token; `token` is an id or a secret. */
  revokeToken(token: string): Promise<string>;
  listAudit(sinceMs: number, unit: string, limit: number): Promise<AuditEntry[]>;
}

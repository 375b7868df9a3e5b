// What the HTTP API v1 needs from fleet, in domain words. The real implementation
// (grpc-fleet-backend.ts) calls the api's own FleetService, so HTTP and gRPC behave the same;
// the fake beside it (fake-fleet-backend.ts) serves the contract tests. Failures are
// FleetErrors (@fleet/wire), whose kind becomes the HTTP status (http-error.ts).
//
// Why this is not fleetctl's FleetApi (clients/fleetctl/src/api/fleet-api.ts), though both
// read and write units over FleetService: they are the two ends of different contracts.
// - Errors: a FleetBackend failure keeps its kind, which becomes the HTTP status (a unit that is
//   not there is a 404, so destroyUnit throws not-found); a FleetApi failure is a sentence for
//   the user, writes that may have been applied say so ("... may have been applied; retrying
//   is safe"), and "not found" is a value (destroyUnit returns false).
// - Every backend call carries the HTTP request's id to FleetService, so one request's log
//   lines share it; fleetctl has no request ids, and a deadline the user sets per call.
// - The HTTP API v1 reads states by machine (GET /state?machineID=), changes machine metadata
//   (PATCH /machines) and reports what a PUT did (created or replaced); fleetctl does none of
//   these, and needs what HTTP API v1 does not serve: batched creates, the units' watch
//   stream, status and journal streams, the engine's word on machine health.
// One interface for both would be the union (each adapter and fake implementing what its user
// never calls) or a lowest common part with two error contracts. The code they do share, the
// mapping between the wire and the domain, is @fleet/wire's (convert.ts); what remains twice
// is a few one-line calls.
import type { Machine, Principal, TargetState, Unit, UnitState } from "@fleet/domain";

/** Who makes a backend call (as the HTTP layer authenticated it), and the request's id. */
export interface BackendCall {
  readonly requestId: string;
  readonly principal: Principal;
}

/** A unit with where the engine placed it and the state its machine reached. */
import type { UnitView } from "@fleet/domain";
export type { UnitView };

export interface StateFilter {
  /** "" for every machine. */
  readonly machineId: string;
  /** "" for every unit. */
  readonly unitName: string;
}

/** What a replaceUnit did: created the unit, replaced its contents, or neither (same contents). */
export interface ReplaceOutcome {
  readonly created: boolean;
  readonly replaced: boolean;
}

/** Metadata changes for one machine: keys to set, then keys to remove. */
export interface MetadataChange {
  readonly machineId: string;
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

export interface FleetBackend {
  /** The unit, or undefined when there is none by that name. */
  getUnit(name: string, call: BackendCall): Promise<UnitView | undefined>;
  /** Every unit, by name. */
  /** Units sorted by name: all, or `page.limit` of them from `page.offset`; and how many there are. */
  listUnits(call: BackendCall, page?: { offset: number; limit: number }): Promise<{ units: UnitView[]; total: number }>;
  /**
   * Creates the unit, or replaces the contents and desired state of the one by that name,
   * keeping its placement (RegistryService.ReplaceUnit); nothing changes when it is as asked.
   */
  replaceUnit(unit: Unit, call: BackendCall): Promise<ReplaceOutcome>;
  setUnitTargetState(name: string, state: TargetState, call: BackendCall): Promise<void>;
  /** "not-found" when there is no unit by that name. */
  destroyUnit(name: string, call: BackendCall): Promise<void>;
  listUnitStates(filter: StateFilter, call: BackendCall): Promise<UnitState[]>;
  /** Live machines, by id. */
  listMachines(call: BackendCall): Promise<Machine[]>;
  setMachineMetadata(change: MetadataChange, call: BackendCall): Promise<void>;
}

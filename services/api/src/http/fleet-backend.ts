// What the HTTP API v1 needs from fleet, in domain words. The real implementation
// (grpc-fleet-backend.ts) calls the api's own FleetService, so HTTP and gRPC behave the same;
// the fake beside it (fake-fleet-backend.ts) serves the contract tests. Failures are
// FleetErrors (@fleet/wire), whose kind becomes the HTTP status (http-error.ts).
import type { Machine, TargetState, Unit, UnitState } from "@fleet/domain";

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
  getUnit(name: string, requestId: string): Promise<UnitView | undefined>;
  /** Every unit, by name. */
  listUnits(requestId: string): Promise<UnitView[]>;
  /**
   * Creates the unit, or replaces the contents and desired state of the one by that name,
   * keeping its placement (RegistryService.ReplaceUnit); nothing changes when it is as asked.
   */
  replaceUnit(unit: Unit, requestId: string): Promise<ReplaceOutcome>;
  setUnitTargetState(name: string, state: TargetState, requestId: string): Promise<void>;
  /** "not-found" when there is no unit by that name. */
  destroyUnit(name: string, requestId: string): Promise<void>;
  listUnitStates(filter: StateFilter, requestId: string): Promise<UnitState[]>;
  /** Live machines, by id. */
  listMachines(requestId: string): Promise<Machine[]>;
  setMachineMetadata(change: MetadataChange, requestId: string): Promise<void>;
}

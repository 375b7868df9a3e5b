// What fleetctl needs from the cluster, in domain words. The gRPC adapter (grpc-fleet-api.ts)
// implements it against the api service; the fake beside it (fake-fleet-api.ts) lets the
// commands be tested without a server. Errors are thrown as plain Errors whose message is
// fit for the user; "not found" is a value, not an error.
import type { Machine, TargetState, Unit, UnitState } from "@fleet/domain";

/** A unit with where the engine placed it and the state its machine reached. */
export interface UnitView {
  readonly unit: Unit;
  /** "" when the unit is not scheduled. */
  readonly machineId: string;
  readonly currentState: TargetState;
  /** Why the unit is not placed, when it is not. */
  readonly reason: string;
}

export interface FleetApi {
  /** The unit, or undefined when there is no unit by that name. */
  getUnit(name: string): Promise<UnitView | undefined>;
  listUnits(): Promise<UnitView[]>;
  createUnit(unit: Unit): Promise<void>;
  setUnitTargetState(name: string, state: TargetState): Promise<void>;
  /** False when there was no unit by that name. */
  destroyUnit(name: string): Promise<boolean>;
  listUnitStates(): Promise<UnitState[]>;
  listMachines(): Promise<Machine[]>;
  close(): void;
}

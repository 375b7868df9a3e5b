// Plain domain data shared by every process. No I/O here, ever.

/** One line of a unit file: `[section]` then `name=value`. */
export interface UnitOption {
  readonly section: string;
  readonly name: string;
  readonly value: string;
}

/** fleet's desired states, in order: a unit moves inactive -> loaded -> launched. */
export type TargetState = "inactive" | "loaded" | "launched";

export const TARGET_STATES: readonly TargetState[] = ["inactive", "loaded", "launched"];

export function isTargetState(value: string): value is TargetState {
  return (TARGET_STATES as readonly string[]).includes(value);
}

/** A unit as stored in the registry. */
export interface Unit {
  readonly name: string;
  readonly options: readonly UnitOption[];
  /** SHA1 of the unit's contents, 40 hex digits. */
  readonly hash: string;
  readonly desiredState: TargetState;
}

export interface Machine {
  readonly id: string;
  readonly publicIp: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Where the machine's agent serves status and journals (host:port); absent when it does not. */
  readonly agentEndpoint?: string;
}

/** What an agent reports for one unit, in systemd's own words. */
export interface UnitState {
  readonly name: string;
  readonly hash: string;
  readonly machineId: string;
  readonly loadState: string;
  readonly activeState: string;
  readonly subState: string;
  /** The fleet state the agent reached for the unit. */
  readonly currentState: TargetState;
  /** Why the agent could not bring the unit to its desired state; absent or "" when nothing
   * stands in the way (e.g. "unit foo@.service cannot run: it is a template ..."). */
  readonly reason?: string;
}

/** Where the engine put a unit; machineId "" means unscheduled, with the reason why. */
export interface Placement {
  readonly unitName: string;
  readonly machineId: string;
  readonly reason: string;
}

/** A unit as users see it: where it is placed and the state its machine reports. */
export interface UnitView {
  readonly unit: Unit;
  /** "" when the unit is not scheduled. */
  readonly machineId: string;
  readonly currentState: TargetState;
  /** Why the unit is not placed, when it is not ("" otherwise). */
  readonly reason: string;
}

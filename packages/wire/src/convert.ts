// Maps domain values to wire messages and back. The only place that knows both shapes.
import type * as domain from "@fleet/domain";
import { TargetState, type Machine, type Placement, type Unit, type UnitState } from "./gen/fleet/v1/types.pb.js";
import type { UnitView } from "./gen/fleet/v1/fleet.pb.js";
import type { WatchClusterResponse } from "./gen/fleet/internal/v1/registry.pb.js";

const toWire: Record<domain.TargetState, TargetState> = {
  inactive: TargetState.TARGET_STATE_INACTIVE,
  loaded: TargetState.TARGET_STATE_LOADED,
  launched: TargetState.TARGET_STATE_LAUNCHED,
};

export function targetStateToWire(state: domain.TargetState): TargetState {
  return toWire[state];
}

/** The domain state of a wire enum, or undefined for UNSPECIFIED/unknown values. */
export function targetStateFromWire(state: TargetState): domain.TargetState | undefined {
  switch (state) {
    case TargetState.TARGET_STATE_INACTIVE:
      return "inactive";
    case TargetState.TARGET_STATE_LOADED:
      return "loaded";
    case TargetState.TARGET_STATE_LAUNCHED:
      return "launched";
    default:
      return undefined;
  }
}

export function unitToWire(unit: domain.Unit): Unit {
  return {
    name: unit.name,
    options: unit.options.map((o) => ({ section: o.section, name: o.name, value: o.value })),
    hash: unit.hash,
    desiredState: targetStateToWire(unit.desiredState),
  };
}

export function unitFromWire(unit: Unit): domain.Unit {
  return {
    name: unit.name,
    options: unit.options.map((o) => ({ section: o.section, name: o.name, value: o.value })),
    hash: unit.hash,
    desiredState: targetStateFromWire(unit.desiredState) ?? "inactive",
  };
}

export function machineToWire(machine: domain.Machine): Machine {
  return { id: machine.id, publicIp: machine.publicIp, metadata: { ...machine.metadata }, version: "", agentEndpoint: machine.agentEndpoint ?? "" };
}

export function machineFromWire(machine: Machine): domain.Machine {
  const m = { id: machine.id, publicIp: machine.publicIp, metadata: { ...machine.metadata } };
  return machine.agentEndpoint ? { ...m, agentEndpoint: machine.agentEndpoint } : m;
}

export function unitStateToWire(state: domain.UnitState): UnitState {
  return { ...state, currentState: targetStateToWire(state.currentState), reason: state.reason ?? "" };
}

export function unitStateFromWire(state: UnitState): domain.UnitState {
  const { reason, ...rest } = state;
  return { ...rest, currentState: targetStateFromWire(state.currentState) ?? "inactive", ...(reason ? { reason } : {}) };
}

export function placementToWire(p: domain.Placement): Placement {
  return { unitName: p.unitName, machineId: p.machineId, reason: p.reason };
}

export function placementFromWire(p: Placement): domain.Placement {
  return { unitName: p.unitName, machineId: p.machineId, reason: p.reason };
}

export function unitViewToWire(view: domain.UnitView): UnitView {
  return { unit: unitToWire(view.unit), machineId: view.machineId, currentState: targetStateToWire(view.currentState), reason: view.reason };
}

/** undefined for a view without a unit (a malformed answer). */
export function unitViewFromWire(view: UnitView): domain.UnitView | undefined {
  if (!view.unit) return undefined;
  return {
    unit: unitFromWire(view.unit),
    machineId: view.machineId,
    // A unit no agent reports on is not running anywhere: inactive, as fleet shows it.
    currentState: targetStateFromWire(view.currentState) ?? "inactive",
    reason: view.reason,
  };
}

/** A WatchCluster message in domain terms: what it changes (all of it, in a snapshot). */
export interface ClusterChange {
  readonly revision: number;
  readonly snapshot: boolean;
  readonly units: domain.Unit[];
  readonly removedUnits: string[];
  readonly placements: domain.Placement[];
  readonly removedPlacements: string[];
  readonly machines: domain.Machine[];
  readonly removedMachines: string[];
  /** Only on a stream opened with_states. */
  readonly states: domain.UnitState[];
  readonly removedStates: Array<{ unitName: string; machineId: string }>;
  /** The requests whose writes made this revision, when the gateway knows them. */
  readonly requestIds: string[];
}

export function clusterChangeFromWire(res: WatchClusterResponse): ClusterChange {
  return {
    revision: res.revision,
    snapshot: res.snapshot,
    units: res.units.map(unitFromWire),
    removedUnits: res.removedUnits,
    placements: res.placements.map(placementFromWire),
    removedPlacements: res.removedPlacements,
    machines: res.machines.map(machineFromWire),
    removedMachines: res.removedMachines,
    states: res.states.map(unitStateFromWire),
    removedStates: res.removedStates,
    requestIds: res.requestIds,
  };
}

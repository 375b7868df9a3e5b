// What the engine may write of the scheduler's decision, given the machines' liveness (pure).
//
// The scheduler sees the registry as it is: a machine whose lease lapsed is gone, and it moves
// that machine's units. Whether they may move yet is the liveness rules' call
// (machine-liveness.ts): a change that moves a unit off a machine not declared lost is held.
// AtMostOnce units follow a protocol of their own:
//
//   off a lost machine  -> written only while that machine is still unregistered (the gateway
//                          checks it in the same transaction), after the margin past the lapse
//   off a live machine  -> unscheduled first; placed again once no machine reports it running
//   placed anywhere     -> only once no other machine reports it running
//
// A unit taken off the schedule (inactive or destroyed) is always written: that starts nothing.
import type { MoveOff } from "./machine-liveness.js";
import type { Placement, UnitState } from "../types.js";

export interface LivenessView {
  moveOff(now: number, machineId: string, atMostOnce: boolean): MoveOff;
  isPresent(machineId: string): boolean;
}

export interface FilterContext {
  readonly now: number;
  readonly liveness: LivenessView;
  /** The machine the unit is placed on now ("" when none). */
  placedOn(unitName: string): string;
  isAtMostOnce(unitName: string): boolean;
}

export interface HeldChange {
  readonly change: Placement;
  readonly reason: string;
}

export interface FilteredChanges {
  /** Written as they are. */
  readonly write: Placement[];
  /** AtMostOnce units leaving a lost machine, by that machine: written only while it is unregistered. */
  readonly offLost: Map<string, Placement[]>;
  /** AtMostOnce units being placed: written only if no other machine reports them running. */
  readonly ifNotRunning: Placement[];
  readonly held: HeldChange[];
  /** When a held change may pass (the earliest), if known. */
  readonly retryAt: number | undefined;
}

export function filterForLiveness(changes: readonly Placement[], ctx: FilterContext): FilteredChanges {
  const out: FilteredChanges = { write: [], offLost: new Map(), ifNotRunning: [], held: [], retryAt: undefined };
  let retryAt: number | undefined;
  for (const change of changes) {
    const from = ctx.placedOn(change.unitName);
    const atMostOnce = ctx.isAtMostOnce(change.unitName);
    const unscheduled = change.machineId === "" && change.reason === "";
    if (from !== "" && from !== change.machineId && !unscheduled) {
      const verdict = ctx.liveness.moveOff(ctx.now, from, atMostOnce);
      if (!verdict.move) {
        out.held.push({ change, reason: verdict.reason });
        if (verdict.retryAt !== undefined) retryAt = Math.min(retryAt ?? verdict.retryAt, verdict.retryAt);
        continue;
      }
      if (atMostOnce && change.machineId !== "") {
        if (ctx.liveness.isPresent(from)) {
          out.write.push({ unitName: change.unitName, machineId: "", reason: `AtMostOnce: leaving machine ${from}; placed again once it has stopped there` });
        } else {
          const group = out.offLost.get(from) ?? [];
          group.push(change);
          out.offLost.set(from, group);
        }
        continue;
      }
    } else if (atMostOnce && from === "" && change.machineId !== "") {
      out.ifNotRunning.push(change);
      continue;
    }
    out.write.push(change);
  }
  return { ...out, retryAt };
}

/** systemd states in which a unit still runs (or may): anything but inactive and failed. */
export function stillRuns(activeState: string): boolean {
  return activeState !== "" && activeState !== "inactive" && activeState !== "failed";
}

/**
 * The AtMostOnce placements that may be written: those whose unit no other machine reports
 * running. The others are held with the reason.
 */
export function placeableAtMostOnce(changes: readonly Placement[], states: readonly UnitState[]): { place: Placement[]; held: HeldChange[] } {
  const place: Placement[] = [];
  const held: HeldChange[] = [];
  for (const change of changes) {
    const elsewhere = states.find((s) => s.name === change.unitName && s.machineId !== change.machineId && stillRuns(s.activeState));
    if (elsewhere) held.push({ change, reason: `AtMostOnce: still ${elsewhere.activeState} on machine ${elsewhere.machineId}` });
    else place.push(change);
  }
  return { place, held };
}

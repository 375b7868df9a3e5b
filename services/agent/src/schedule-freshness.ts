// Whether the schedule an agent holds (its last GetMachineSchedule answer) can stand in for a
// new read in a pass. Heartbeats carry the revision at which the machine's schedule last changed
// (as far as the gateway knows, never lower than the truth); a schedule read at or after it,
// with no hint asking for a newer revision, is what a read would return. Only a heartbeat
// answered within freshForMs counts: a machine cut off from its gateway reads (and fails) as
// before, so a partitioned agent never acts on what it held before the cut. And however current
// it looks, a schedule older than maxHeldMs is read again: a safety net that bounds what any
// change the gateway failed to attribute to this machine could cost. Pure.

export interface ScheduleFreshness {
  /** The revision the held schedule was read at (the gateway's cache revision then). */
  readonly heldRevision: number;
  /** The schedule revision the last successful heartbeat reported (0: none, or it failed since). */
  readonly heardRevision: number;
  /** How long ago that heartbeat was answered. */
  readonly heardAgoMs: number;
  readonly freshForMs: number;
  /** The revision reads must reflect (hints and the agent's own writes raise it). */
  readonly minRevision: number;
  /** How long ago the held schedule was read, and the most it may be reused for. */
  readonly heldAgoMs: number;
  readonly maxHeldMs: number;
}

export function heldScheduleIsCurrent(f: ScheduleFreshness): boolean {
  return f.heardRevision > 0 && f.heardRevision <= f.heldRevision && f.minRevision <= f.heldRevision && f.heardAgoMs <= f.freshForMs && f.heldAgoMs <= f.maxHeldMs;
}

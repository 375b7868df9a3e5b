// The agent's side of [X-Fleet] AtMostOnce=true: the machine fences itself, with systemd as a
// dead man's switch, so that such a unit stops before the machine's lease can lapse, even when
// the agent is frozen (SIGSTOP) or dead. Pure: time is data (monotonic milliseconds).
//
// Mechanism (verified on the sandbox's systemd 252, see docs/architecture.md "Agent"):
//
//   fleet-fence.timer    OnActiveSec=D, AccuracySec=50ms, RemainAfterElapse=no
//        │ elapses D after its last (re)start
//        ▼
//   fleet-fence.service  Conflicts=fleet-at-most-once.target,
//                        ExecStart=systemctl --no-block stop fleet-at-most-once.target
//        │ stops
//        ▼
//   fleet-at-most-once.target ◀── PartOf= + Requisite= + After= of every AtMostOnce unit,
//                                 appended to the unit's file as written on the machine
//
// - After each renewal of the lease (a heartbeat answered alive, or a registration) whose
//   round trip took at most R, the agent restarts the timer and starts the target ("re-arms").
//   A frozen or dead agent re-arms nothing: D after its last re-arm systemd stops the target
//   and with it every AtMostOnce unit, on its own.
// - Requisite= makes systemd refuse to start an AtMostOnce unit while the target is inactive
//   (fence fired or never armed): no start can slip past the deadline, whatever the agent does.
// - Conflicts= alone does not stop the PartOf units of a target that is already inactive
//   (systemd drops the redundant stop job, and its propagation with it: seen on systemd 252);
//   an explicit stop of the target does, hence the ExecStart. With Requisite= a unit cannot run
//   while the target is inactive anyway; the ExecStart covers a unit started by other means.
//
// Timing, with T = agent_ttl: R = T/5, stop margin M = T/5, D = T - R - M = 0.6 T.
//   A renewal sent at s renews the lease no earlier than s, so the lease lapses no earlier
//   than s + T. The re-arm happens by s + R, so the timer fires by s + R + D = s + T - M:
//   the units start stopping at least M before the lease can lapse. The agent itself counts
//   the fence armed only until s + D (it cannot know exactly when its re-arm took effect), so
//   it never starts a unit that systemd would already have fenced.

export interface FenceTiming {
  readonly ttlMs: number;
  /** R: a renewal that took longer than this does not re-arm the fence. */
  readonly maxRoundTripMs: number;
  /** M: the least time between the fence firing and the earliest lease lapse. */
  readonly stopMarginMs: number;
  /** D = ttl - R - M: the timer's delay after each re-arm. */
  readonly timerDelayMs: number;
}

export function fenceTiming(ttlMs: number): FenceTiming {
  const maxRoundTripMs = ttlMs / 5;
  const stopMarginMs = ttlMs / 5;
  return { ttlMs, maxRoundTripMs, stopMarginMs, timerDelayMs: ttlMs - maxRoundTripMs - stopMarginMs };
}

/** A renewal of the machine's lease as the agent saw it: when it sent the request (the first
 * unanswered one, when a heartbeat was retried: see renewedNoEarlierThan) and when the answer
 * came (a heartbeat answered alive, or a registration that granted a lease). */
export interface Renewal {
  readonly sentAt: number;
  readonly receivedAt: number;
}

/** What the agent knows of its fence. */
export interface FenceState {
  /** Send time of the renewal behind the last successful re-arm; undefined: never armed. */
  readonly armedAt: number | undefined;
  /** When the current stretch of being armed began (undefined while not armed). */
  readonly armedSince: number | undefined;
}

export const UNARMED: FenceState = { armedAt: undefined, armedSince: undefined };

/** Whether this renewal may re-arm the fence: only one answered within R. */
export function mayRearm(t: FenceTiming, r: Renewal): boolean {
  return r.receivedAt - r.sentAt <= t.maxRoundTripMs;
}

/** When the agent counts the fence as fired (systemd fires it no earlier). */
export function fenceDeadline(t: FenceTiming, s: FenceState): number | undefined {
  return s.armedAt === undefined ? undefined : s.armedAt + t.timerDelayMs;
}

export function isArmed(t: FenceTiming, s: FenceState, now: number): boolean {
  const deadline = fenceDeadline(t, s);
  return deadline !== undefined && now < deadline;
}

/**
 * Whether the agent may start an AtMostOnce unit now, going by a schedule it began reading at
 * `readAt`: only when the fence is armed now and has been without a gap since before that read.
 * A schedule read before a gap may predate the engine moving the unit away after a lapse.
 */
export function mayStart(t: FenceTiming, s: FenceState, readAt: number, now: number): boolean {
  return isArmed(t, s, now) && s.armedSince !== undefined && s.armedSince <= readAt;
}

export interface Rearmed {
  readonly state: FenceState;
  /** The fence was not armed before this re-arm: systemd may have stopped the units meanwhile
   * (or, after an agent restart, the previous process's fence did), so the agent must look. */
  readonly afterGap: boolean;
  /** How much later than R after the renewal's send the re-arm took effect (it eats into M). */
  readonly lateByMs: number;
}

/** The state after a successful re-arm, finished at `now`, for renewal `r`. */
export function rearmed(t: FenceTiming, s: FenceState, r: Renewal, now: number): Rearmed {
  const afterGap = !isArmed(t, s, now);
  const armedAt = Math.max(r.sentAt, s.armedAt ?? r.sentAt);
  return {
    state: { armedAt, armedSince: afterGap ? now : (s.armedSince ?? now) },
    afterGap,
    lateByMs: Math.max(0, now - r.sentAt - t.maxRoundTripMs),
  };
}

/** The state once the agent sees its deadline passed (or a re-arm failed): not armed. */
export function lapsed(s: FenceState): FenceState {
  return { armedAt: s.armedAt, armedSince: undefined };
}

import { describe, expect, it } from "vitest";
import { fenceDeadline, fenceTiming, isArmed, lapsed, mayRearm, mayStart, rearmed, UNARMED, type FenceState } from "./at-most-once-fence.js";

// agent_ttl 5 s: R = 1 s, M = 1 s, D = 3 s.
const t = fenceTiming(5000);
const armedAt = (at: number, since = at): FenceState => ({ armedAt: at, armedSince: since });

describe("fenceTiming", () => {
  it.each([
    { ttlMs: 5000, R: 1000, M: 1000, D: 3000 },
    { ttlMs: 30_000, R: 6000, M: 6000, D: 18_000 },
  ])("agent_ttl $ttlMs ms: R $R, M $M, D $D", ({ ttlMs, R, M, D }) => {
    expect(fenceTiming(ttlMs)).toEqual({ ttlMs, maxRoundTripMs: R, stopMarginMs: M, timerDelayMs: D });
  });

  it("the timer fires at least M before the earliest lapse of a lease renewed by a re-arming heartbeat", () => {
    for (const ttlMs of [1000, 5000, 30_000]) {
      const f = fenceTiming(ttlMs);
      const sentAt = 100;
      const latestRearm = sentAt + f.maxRoundTripMs;
      const earliestLapse = sentAt + ttlMs;
      expect(earliestLapse - (latestRearm + f.timerDelayMs)).toBe(f.stopMarginMs);
    }
  });
});

describe("mayRearm", () => {
  it.each([
    { name: "fast answer", sentAt: 0, receivedAt: 40, want: true },
    { name: "answer at exactly R", sentAt: 0, receivedAt: 1000, want: true },
    { name: "answer after R: the lease may have been renewed too early to re-arm from now", sentAt: 0, receivedAt: 1001, want: false },
  ])("$name", ({ sentAt, receivedAt, want }) => {
    expect(mayRearm(t, { sentAt, receivedAt })).toBe(want);
  });
});

describe("isArmed and the deadline", () => {
  it.each([
    { name: "never armed", state: UNARMED, now: 0, armed: false, deadline: undefined },
    { name: "just re-armed", state: armedAt(10_000), now: 10_050, armed: true, deadline: 13_000 },
    { name: "last instant before D", state: armedAt(10_000), now: 12_999, armed: true, deadline: 13_000 },
    { name: "D after the renewal's send: counted fired (systemd fires no earlier)", state: armedAt(10_000), now: 13_000, armed: false, deadline: 13_000 },
    { name: "a frozen agent, long after", state: armedAt(10_000), now: 60_000, armed: false, deadline: 13_000 },
  ])("$name", ({ state, now, armed, deadline }) => {
    expect(isArmed(t, state, now)).toBe(armed);
    expect(fenceDeadline(t, state)).toBe(deadline);
  });
});

describe("mayStart", () => {
  it.each([
    { name: "armed since before the schedule was read", state: armedAt(9000, 2000), readAt: 9500, now: 9600, want: true },
    { name: "never armed", state: UNARMED, readAt: 0, now: 1, want: false },
    { name: "armed only after the read began: the schedule may predate a move", state: armedAt(9000, 9400), readAt: 9300, now: 9600, want: false },
    { name: "deadline passed during the pass", state: armedAt(9000, 2000), readAt: 9500, now: 12_000, want: false },
    { name: "after a failed re-arm (lapsed), even before the deadline", state: lapsed(armedAt(9000, 2000)), readAt: 9500, now: 9600, want: false },
  ])("$name", ({ state, readAt, now, want }) => {
    expect(mayStart(t, state, readAt, now)).toBe(want);
  });
});

describe("rearmed", () => {
  it.each([
    {
      name: "first arming: a gap (the units may have been stopped, or adopted from a previous process)",
      state: UNARMED,
      renewal: { sentAt: 1000, receivedAt: 1020 },
      now: 1030,
      want: { state: armedAt(1000, 1030), afterGap: true, lateByMs: 0 },
    },
    {
      name: "a renewal within D of the last: no gap, the stretch goes on",
      state: armedAt(1000, 1030),
      renewal: { sentAt: 2600, receivedAt: 2650 },
      now: 2660,
      want: { state: armedAt(2600, 1030), afterGap: false, lateByMs: 0 },
    },
    {
      name: "a renewal after the deadline: a gap, the stretch starts again",
      state: armedAt(1000, 1030),
      renewal: { sentAt: 4500, receivedAt: 4550 },
      now: 4560,
      want: { state: armedAt(4500, 4560), afterGap: true, lateByMs: 0 },
    },
    {
      name: "a re-arm that took effect late (systemd busy) says by how much it ate into M",
      state: armedAt(1000, 1030),
      renewal: { sentAt: 2000, receivedAt: 2900 },
      now: 3250,
      want: { state: armedAt(2000, 1030), afterGap: false, lateByMs: 250 },
    },
    {
      name: "an older renewal finishing after a newer one never moves the deadline back",
      state: armedAt(3000, 1030),
      renewal: { sentAt: 2500, receivedAt: 2600 },
      now: 3100,
      want: { state: armedAt(3000, 1030), afterGap: false, lateByMs: 0 },
    },
  ])("$name", ({ state, renewal, now, want }) => {
    expect(rearmed(t, state, renewal, now)).toEqual(want);
  });
});

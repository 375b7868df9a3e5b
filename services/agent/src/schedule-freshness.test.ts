import { describe, expect, it } from "vitest";
import { heldScheduleIsCurrent, type ScheduleFreshness } from "./schedule-freshness.js";

const base: ScheduleFreshness = { heldRevision: 100, heardRevision: 90, heardAgoMs: 500, freshForMs: 2500, minRevision: 80, heldAgoMs: 30_000, maxHeldMs: 60_000 };

describe("heldScheduleIsCurrent", () => {
  const cases: Array<[string, Partial<ScheduleFreshness>, boolean]> = [
    ["the schedule last changed before it was read", {}, true],
    ["it changed at the very revision it was read at", { heardRevision: 100 }, true],
    ["it changed after it was read", { heardRevision: 101 }, false],
    ["no heartbeat said (or the last one failed)", { heardRevision: 0 }, false],
    ["a hint asks for a newer revision", { minRevision: 101 }, false],
    ["the heartbeat is older than freshForMs: the gateway may be out of reach", { heardAgoMs: 2501 }, false],
    ["current, but read longer ago than maxHeldMs: the safety net", { heldAgoMs: 60_001 }, false],
  ];
  for (const [name, change, expected] of cases) {
    it(`${name}: ${expected ? "held" : "read again"}`, () => {
      expect(heldScheduleIsCurrent({ ...base, ...change })).toBe(expected);
    });
  }
});

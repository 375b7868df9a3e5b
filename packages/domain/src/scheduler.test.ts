import { describe, expect, it } from "vitest";
import { makeMachine, makeUnit, placed } from "./fixtures.js";
import { decideSchedule, NO_MACHINES, type ClusterSnapshot } from "./scheduler.js";

const global = [
  { section: "Service", name: "ExecStart", value: "/bin/true" },
  { section: "X-Fleet", name: "Global", value: "true" },
];

interface Case {
  name: string;
  snapshot: ClusterSnapshot;
  want: Array<[unit: string, machine: string]>;
}

const cases: Case[] = [
  {
    name: "places a launched unit on the only machine",
    snapshot: { units: [makeUnit("a.service")], placements: [], machines: [makeMachine("m1")] },
    want: [["a.service", "m1"]],
  },
  {
    name: "places a loaded unit too",
    snapshot: { units: [makeUnit("a.service", "loaded")], placements: [], machines: [makeMachine("m1")] },
    want: [["a.service", "m1"]],
  },
  {
    name: "does not place an inactive unit",
    snapshot: { units: [makeUnit("a.service", "inactive")], placements: [], machines: [makeMachine("m1")] },
    want: [],
  },
  {
    name: "unschedules a unit that became inactive",
    snapshot: { units: [makeUnit("a.service", "inactive")], placements: [placed("a.service", "m1")], machines: [makeMachine("m1")] },
    want: [["a.service", ""]],
  },
  {
    name: "least loaded wins",
    snapshot: {
      units: [makeUnit("a.service"), makeUnit("b.service"), makeUnit("c.service")],
      placements: [placed("a.service", "m1"), placed("b.service", "m1")],
      machines: [makeMachine("m1"), makeMachine("m2")],
    },
    want: [["c.service", "m2"]],
  },
  {
    name: "ties go to the smallest machine id, units in name order",
    snapshot: {
      units: [makeUnit("b.service"), makeUnit("a.service"), makeUnit("c.service")],
      placements: [],
      machines: [makeMachine("m3"), makeMachine("m1"), makeMachine("m2")],
    },
    want: [
      ["a.service", "m1"],
      ["b.service", "m2"],
      ["c.service", "m3"],
    ],
  },
  {
    name: "a unit whose machine went away moves to a live machine",
    snapshot: { units: [makeUnit("a.service")], placements: [placed("a.service", "gone")], machines: [makeMachine("m2")] },
    want: [["a.service", "m2"]],
  },
  {
    name: "a unit stays where it is while its machine lives",
    snapshot: { units: [makeUnit("a.service")], placements: [placed("a.service", "m2")], machines: [makeMachine("m1"), makeMachine("m2")] },
    want: [],
  },
  {
    name: "global units are left to the agents",
    snapshot: { units: [makeUnit("g.service", "launched", global)], placements: [], machines: [makeMachine("m1")] },
    want: [],
  },
  {
    name: "a placement of a destroyed unit is removed",
    snapshot: { units: [], placements: [placed("x.service", "m1")], machines: [makeMachine("m1")] },
    want: [["x.service", ""]],
  },
];

describe("decideSchedule", () => {
  it.each(cases)("$name", ({ snapshot, want }) => {
    const changes = decideSchedule(snapshot).map((c) => [c.unitName, c.machineId]);
    expect(changes).toEqual(want);
  });

  it("says why a unit cannot be placed, once", () => {
    const snapshot: ClusterSnapshot = { units: [makeUnit("a.service")], placements: [], machines: [] };
    expect(decideSchedule(snapshot)).toEqual([{ unitName: "a.service", machineId: "", reason: NO_MACHINES }]);
    const again: ClusterSnapshot = { ...snapshot, placements: [placed("a.service", "", NO_MACHINES)] };
    expect(decideSchedule(again)).toEqual([]);
  });

  it("gives the machine that went away as the reason for a move", () => {
    const [change] = decideSchedule({ units: [makeUnit("a.service")], placements: [placed("a.service", "dead")], machines: [makeMachine("m1")] });
    expect(change?.reason).toContain("dead");
  });

  it("never leaves a wanted unit unplaced while machines live, and balances load (property)", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rand = lcg(seed);
      const machines = Array.from({ length: 1 + Math.floor(rand() * 5) }, (_, i) => makeMachine(`m${i}`));
      const units = Array.from({ length: Math.floor(rand() * 30) }, (_, i) => makeUnit(`u${i}.service`, rand() < 0.2 ? "inactive" : "launched"));
      const changes = decideSchedule({ units, placements: [], machines });
      const placedUnits = changes.filter((c) => c.machineId !== "");
      expect(placedUnits.length).toBe(units.filter((u) => u.desiredState !== "inactive").length);
      const counts = machines.map((m) => placedUnits.filter((c) => c.machineId === m.id).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });
});

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

import { describe, expect, it } from "vitest";
import { makeMachine, makeUnit, placed } from "../fixtures.js";
import { NO_MACHINES, type ClusterSnapshot } from "./scheduler.js";
import { decideChanges, xUnit } from "./scheduler-fixtures.js";

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
    const changes = decideChanges(snapshot).map((c) => [c.unitName, c.machineId]);
    expect(changes).toEqual(want);
  });

  it("says why a unit cannot be placed, once", () => {
    const snapshot: ClusterSnapshot = { units: [makeUnit("a.service")], placements: [], machines: [] };
    expect(decideChanges(snapshot)).toEqual([{ unitName: "a.service", machineId: "", reason: NO_MACHINES }]);
    const again: ClusterSnapshot = { ...snapshot, placements: [placed("a.service", "", NO_MACHINES)] };
    expect(decideChanges(again)).toEqual([]);
  });

  it("gives the machine that went away as the reason for a move", () => {
    const [change] = decideChanges({ units: [makeUnit("a.service")], placements: [placed("a.service", "dead")], machines: [makeMachine("m1")] });
    expect(change?.reason).toContain("dead");
  });

  it("never leaves a wanted unit unplaced while machines live, and balances load (property)", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rand = lcg(seed);
      const machines = Array.from({ length: 1 + Math.floor(rand() * 5) }, (_, i) => makeMachine(`m${i}`));
      const units = Array.from({ length: Math.floor(rand() * 30) }, (_, i) => makeUnit(`u${i}.service`, rand() < 0.2 ? "inactive" : "launched"));
      const changes = decideChanges({ units, placements: [], machines });
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

describe("decideSchedule: reasons", () => {
  it("emits an unplaced reason only when it changes", () => {
    const units = [xUnit("a.service", { MachineMetadata: "region=west" })];
    const first = decideChanges({ units, placements: [], machines: [makeMachine("m1", { region: "east" })] });
    expect(first).toEqual([{ unitName: "a.service", machineId: "", reason: "no machine matches MachineMetadata region=west" }]);
    const stored = [placed("a.service", "", "no machine matches MachineMetadata region=west")];
    expect(decideChanges({ units, placements: stored, machines: [makeMachine("m1", { region: "east" })] })).toEqual([]);
    // The cause changes: no machines at all.
    expect(decideChanges({ units, placements: stored, machines: [] })).toEqual([{ unitName: "a.service", machineId: "", reason: NO_MACHINES }]);
    // A matching machine appears: placed.
    expect(decideChanges({ units, placements: stored, machines: [makeMachine("m2", { region: "west" })] })).toEqual([
      { unitName: "a.service", machineId: "m2", reason: "least-loaded eligible machine" },
    ]);
  });

  it.each([
    {
      name: "metadata no longer matches",
      unit: xUnit("a.service", { MachineMetadata: "region=west" }),
      machines: [makeMachine("m1", { region: "east" }), makeMachine("m2", { region: "west" })],
      want: "machine m1 no longer matches MachineMetadata region=west",
    },
    {
      name: "MachineID names another machine",
      unit: xUnit("a.service", { MachineID: "m2" }),
      machines: [makeMachine("m1"), makeMachine("m2")],
      want: "machine m1 is not MachineID=m2",
    },
    {
      name: "the machine went away",
      unit: xUnit("a.service"),
      machines: [makeMachine("m2")],
      want: "machine m1 went away",
    },
  ])("says why a unit moves: $name", ({ unit, machines, want }) => {
    const [change] = decideChanges({ units: [unit], placements: [placed("a.service", "m1")], machines });
    expect(change).toEqual({ unitName: "a.service", machineId: "m2", reason: want });
  });

  it("says why a placement was chosen", () => {
    const changes = decideChanges({
      units: [xUnit("db.service"), xUnit("side.service", { MachineOf: "db.service" }), xUnit("old.service"), xUnit("new.service", { Replaces: "old.service" })],
      placements: [placed("old.service", "m2"), placed("db.service", "m1")],
      machines: [makeMachine("m1"), makeMachine("m2"), makeMachine("m3")],
    });
    expect(changes).toEqual([
      { unitName: "new.service", machineId: "m2", reason: "takes the machine of old.service, which it replaces" },
      { unitName: "old.service", machineId: "m3", reason: "replaced by new.service on machine m2" },
      { unitName: "side.service", machineId: "m1", reason: "MachineOf=db.service" },
    ]);
  });
});

// Table tests of fleet's placement rules, one option at a time and in combination. Each case
// runs the decision, applies it, and checks the resulting schedule (unit -> machine, "" when
// unplaced) and, for unplaced units, the reason.
import { describe, expect, it } from "vitest";
import { placed } from "../fixtures.js";
import type { ClusterSnapshot } from "./scheduler.js";
import { applyChanges, decideChanges, hexId, hexMachine, xUnit } from "./scheduler-fixtures.js";
import type { Machine, Placement, Unit } from "../types.js";

const [M1, M2, M3] = [hexId(1), hexId(2), hexId(3)];
const m1 = hexMachine(1);
const m2 = hexMachine(2);
const m3 = hexMachine(3);
const east = (n: number, extra: Record<string, string> = {}) => hexMachine(n, { region: "east", ...extra });
const west = (n: number, extra: Record<string, string> = {}) => hexMachine(n, { region: "west", ...extra });

interface Case {
  name: string;
  units: Unit[];
  machines: Machine[];
  placements?: Placement[];
  /** unit -> machine id after applying the decision ("" = unplaced); units not listed are not checked. */
  want: Record<string, string>;
  /** unit -> text its unplaced reason must contain. */
  reasons?: Record<string, string>;
}

function schedule(snapshot: ClusterSnapshot): Map<string, Placement> {
  const after = applyChanges(snapshot, decideChanges(snapshot));
  return new Map(after.placements.map((p) => [p.unitName, p]));
}

const cases: Case[] = [
  // --- MachineID
  {
    name: "MachineID: only that machine, even when it is the most loaded",
    units: [xUnit("a.service"), xUnit("b.service"), xUnit("pin.service", { MachineID: M1 })],
    machines: [m1, m2],
    placements: [placed("a.service", M1), placed("b.service", M1)],
    want: { "pin.service": M1 },
  },
  {
    name: "MachineID of a machine that is not live: unplaced",
    units: [xUnit("pin.service", { MachineID: M3 })],
    machines: [m1, m2],
    want: { "pin.service": "" },
    reasons: { "pin.service": `MachineID=${M3} is not a live machine` },
  },
  {
    name: "deprecated X-ConditionMachineID",
    units: [xUnit("pin.service", { "X-ConditionMachineID": M2 })],
    machines: [m1, m2],
    want: { "pin.service": M2 },
  },
  {
    name: "MachineID compares without regard to case",
    units: [xUnit("pin.service", { MachineID: hexId(0xabc).toUpperCase() })],
    machines: [m1, hexMachine(0xabc)],
    want: { "pin.service": hexId(0xabc) },
  },
  {
    name: "MachineID machine that does not match MachineMetadata",
    units: [xUnit("pin.service", { MachineID: M1, MachineMetadata: "region=west" })],
    machines: [east(1), west(2)],
    want: { "pin.service": "" },
    reasons: { "pin.service": `MachineID=${M1}: machine ${M1} does not match MachineMetadata region=west` },
  },
  {
    name: "a unit whose MachineID changed moves",
    units: [xUnit("pin.service", { MachineID: M2 })],
    machines: [m1, m2],
    placements: [placed("pin.service", M1)],
    want: { "pin.service": M2 },
  },
  // --- MachineOf
  {
    name: "MachineOf: next to the target",
    units: [xUnit("a.service"), xUnit("db.service"), xUnit("side.service", { MachineOf: "db.service" })],
    machines: [m1, m2],
    placements: [placed("db.service", M1), placed("a.service", M2)],
    want: { "side.service": M1 },
  },
  {
    name: "MachineOf: target placed in the same decision, follower sorted before it",
    units: [xUnit("z.service"), xUnit("a-side.service", { MachineOf: "z.service" })],
    machines: [m1, m2],
    want: { "z.service": M1, "a-side.service": M1 },
  },
  {
    name: "MachineOf chain: a -> b -> c all on c's machine",
    units: [xUnit("a.service", { MachineOf: "b.service" }), xUnit("b.service", { MachineOf: "c.service" }), xUnit("c.service"), xUnit("x.service")],
    machines: [m1, m2],
    placements: [placed("x.service", M1)],
    want: { "a.service": M2, "b.service": M2, "c.service": M2 },
  },
  {
    name: "MachineOf an inactive unit: not scheduled",
    units: [xUnit("db.service", {}, "inactive"), xUnit("side.service", { MachineOf: "db.service" })],
    machines: [m1],
    want: { "side.service": "" },
    reasons: { "side.service": "MachineOf=db.service is not scheduled" },
  },
  {
    name: "MachineOf a unit that does not exist",
    units: [xUnit("side.service", { MachineOf: "db.service" })],
    machines: [m1],
    want: { "side.service": "" },
    reasons: { "side.service": "MachineOf=db.service does not exist" },
  },
  {
    name: "MachineOf a global unit",
    units: [xUnit("g.service", { Global: "true" }), xUnit("side.service", { MachineOf: "g.service" })],
    machines: [m1],
    want: { "side.service": "" },
    reasons: { "side.service": "MachineOf=g.service is a global unit" },
  },
  {
    name: "MachineOf a unit that cannot be placed",
    units: [xUnit("db.service", { MachineMetadata: "region=north" }), xUnit("side.service", { MachineOf: "db.service" })],
    machines: [east(1)],
    want: { "db.service": "", "side.service": "" },
    reasons: { "side.service": "MachineOf=db.service is not scheduled" },
  },
  {
    name: "MachineOf cycle: never placed",
    units: [xUnit("b.service", { MachineOf: "a.service" }), xUnit("a.service", { MachineOf: "b.service" }), xUnit("c.service", { MachineOf: "a.service" })],
    machines: [m1],
    want: { "a.service": "", "b.service": "", "c.service": "" },
    reasons: {
      "a.service": "MachineOf cycle: a.service -> b.service -> a.service",
      "b.service": "MachineOf cycle: a.service -> b.service -> a.service",
      "c.service": "MachineOf=a.service is not scheduled",
    },
  },
  {
    name: "MachineOf cycle of three, named from its smallest unit",
    units: [xUnit("c.service", { MachineOf: "a.service" }), xUnit("b.service", { MachineOf: "c.service" }), xUnit("a.service", { MachineOf: "b.service" })],
    machines: [m1],
    want: { "a.service": "" },
    reasons: { "b.service": "MachineOf cycle: a.service -> b.service -> c.service -> a.service" },
  },
  {
    name: "MachineOf a cycle placed before: unscheduled",
    units: [xUnit("a.service", { MachineOf: "b.service" }), xUnit("b.service", { MachineOf: "a.service" })],
    machines: [m1],
    placements: [placed("a.service", M1), placed("b.service", M1)],
    want: { "a.service": "", "b.service": "" },
  },
  {
    name: "deprecated X-ConditionMachineOf",
    units: [xUnit("db.service"), xUnit("side.service", { "X-ConditionMachineOf": "db.service" })],
    machines: [m1, m2],
    placements: [placed("db.service", M2)],
    want: { "side.service": M2 },
  },
  {
    name: "followers move with their target when its machine goes away",
    units: [xUnit("db.service"), xUnit("side.service", { MachineOf: "db.service" }), xUnit("side2.service", { MachineOf: "side.service" })],
    machines: [m2, m3],
    placements: [placed("db.service", M1), placed("side.service", M1), placed("side2.service", M1)],
    want: { "db.service": M2, "side.service": M2, "side2.service": M2 },
  },
  {
    name: "followers move with their target when its metadata no longer matches",
    units: [xUnit("db.service", { MachineMetadata: "region=west" }), xUnit("side.service", { MachineOf: "db.service" })],
    machines: [east(1), west(2)],
    placements: [placed("db.service", M1), placed("side.service", M1)],
    want: { "db.service": M2, "side.service": M2 },
  },
  {
    name: "MachineOf with specifiers: sidekick@N next to web@N",
    units: [xUnit("web@1.service"), xUnit("web@2.service"), xUnit("sidekick@1.service", { MachineOf: "web@%i.service" }), xUnit("sidekick@2.service", { MachineOf: "web@%i.service" })],
    machines: [m1, m2],
    placements: [placed("web@1.service", M2), placed("web@2.service", M1)],
    want: { "sidekick@1.service": M2, "sidekick@2.service": M1 },
  },
  {
    name: "MachineOf target's machine hosts a unit the follower conflicts with",
    units: [xUnit("db.service"), xUnit("web.service"), xUnit("side.service", { MachineOf: "db.service", Conflicts: "web.service" })],
    machines: [m1, m2],
    placements: [placed("db.service", M1), placed("web.service", M1)],
    want: { "side.service": "" },
    reasons: { "side.service": `MachineOf=db.service: conflicts with web.service on machine ${M1}` },
  },
  {
    name: "MachineOf two targets on different machines",
    units: [xUnit("a.service"), xUnit("b.service"), xUnit("side.service", { MachineOf: ["a.service", "b.service"] })],
    machines: [m1, m2],
    placements: [placed("a.service", M1), placed("b.service", M2)],
    want: { "side.service": "" },
    reasons: { "side.service": "MachineOf=b.service name different machines" },
  },
  // --- MachineMetadata
  {
    name: "MachineMetadata: only matching machines",
    units: [xUnit("a.service", { MachineMetadata: "region=west" })],
    machines: [east(1), west(2), east(3)],
    want: { "a.service": M2 },
  },
  {
    name: "MachineMetadata: one key on two lines is OR (least loaded of both)",
    units: [xUnit("x.service"), xUnit("a.service", { MachineMetadata: ["region=west", "region=east"] })],
    machines: [east(1), west(2), hexMachine(3, { region: "north" })],
    placements: [placed("x.service", M1)],
    want: { "a.service": M2 },
  },
  {
    name: "MachineMetadata: different keys on one quoted line are AND",
    units: [xUnit("a.service", { MachineMetadata: '"region=east" "disk=ssd"' })],
    machines: [east(1), west(2, { disk: "ssd" }), east(3, { disk: "ssd" })],
    want: { "a.service": M3 },
  },
  {
    name: "MachineMetadata: unquoted pairs separated by spaces are AND too",
    units: [xUnit("a.service", { MachineMetadata: "region=east disk=ssd" })],
    machines: [east(1), east(2, { disk: "ssd" })],
    want: { "a.service": M2 },
  },
  {
    name: "MachineMetadata: quoted value with a space",
    units: [xUnit("a.service", { MachineMetadata: '"dc=us east"' })],
    machines: [hexMachine(1, { dc: "us" }), hexMachine(2, { dc: "us east" })],
    want: { "a.service": M2 },
  },
  {
    name: "MachineMetadata: no machine matches",
    units: [xUnit("a.service", { MachineMetadata: "region=west" })],
    machines: [east(1)],
    want: { "a.service": "" },
    reasons: { "a.service": "no machine matches MachineMetadata region=west" },
  },
  {
    name: "MachineMetadata: (OR) and AND in the reason",
    units: [xUnit("a.service", { MachineMetadata: ['"region=west" "disk=ssd"', "region=north"] })],
    machines: [east(1)],
    want: { "a.service": "" },
    reasons: { "a.service": "no machine matches MachineMetadata disk=ssd and (region=north or region=west)" },
  },
  {
    name: "deprecated X-ConditionMachineMetadata",
    units: [xUnit("a.service", { "X-ConditionMachineMetadata": "region=west" })],
    machines: [east(1), west(2)],
    want: { "a.service": M2 },
  },
  {
    name: "metadata changed: the unit moves",
    units: [xUnit("a.service", { MachineMetadata: "region=west" })],
    machines: [east(1), west(2)],
    placements: [placed("a.service", M1)],
    want: { "a.service": M2 },
  },
  {
    name: "metadata still matches: the unit stays on a loaded machine",
    units: [xUnit("a.service", { MachineMetadata: "region=west" }), xUnit("b.service")],
    machines: [west(1), west(2)],
    placements: [placed("a.service", M1), placed("b.service", M1)],
    want: { "a.service": M1 },
  },
  // --- Conflicts
  {
    name: "Conflicts: never next to the named unit",
    units: [xUnit("a.service", { Conflicts: "b.service" }), xUnit("b.service"), xUnit("x.service"), xUnit("y.service")],
    machines: [m1, m2],
    placements: [placed("b.service", M1), placed("x.service", M2), placed("y.service", M2)],
    want: { "a.service": M2 },
  },
  {
    name: "Conflicts: the other unit's pattern counts too",
    units: [xUnit("a.service"), xUnit("b.service", { Conflicts: "a.service" }), xUnit("x.service"), xUnit("y.service")],
    machines: [m1, m2],
    placements: [placed("b.service", M1), placed("x.service", M2), placed("y.service", M2)],
    want: { "a.service": M2 },
  },
  {
    name: "Conflicts glob over template instances: one per machine",
    units: [1, 2, 3].map((i) => xUnit(`web@${i}.service`, { Conflicts: "web@*.service" })),
    machines: [m1, m2],
    want: { "web@1.service": M1, "web@2.service": M2, "web@3.service": "" },
    reasons: { "web@3.service": "conflicts with web@1.service and web@2.service on every eligible machine" },
  },
  {
    name: "Conflicts with %p",
    units: [1, 2].map((i) => xUnit(`web@${i}.service`, { Conflicts: "%p@*.service" })),
    machines: [m1],
    want: { "web@1.service": M1, "web@2.service": "" },
    reasons: { "web@2.service": "conflicts with web@1.service on every eligible machine" },
  },
  {
    name: "deprecated X-Conflicts",
    units: [xUnit("a.service", { "X-Conflicts": "b*" }), xUnit("b1.service")],
    machines: [m1, m2],
    placements: [placed("b1.service", M1)],
    want: { "a.service": M2 },
  },
  {
    name: "Conflicts a unit does not have with itself",
    units: [xUnit("web@1.service", { Conflicts: "web@*.service" })],
    machines: [m1],
    want: { "web@1.service": M1 },
  },
  {
    name: "Conflicts within MachineMetadata's machines: 'every eligible machine'",
    units: [xUnit("a.service", { MachineMetadata: "region=west", Conflicts: "db*" }), xUnit("db.service")],
    machines: [east(1), west(2)],
    placements: [placed("db.service", M2)],
    want: { "a.service": "" },
    reasons: { "a.service": "conflicts with db.service on every eligible machine" },
  },
  {
    name: "two placed units that conflict (a unit changed): the later one by name moves",
    units: [xUnit("a.service"), xUnit("b.service", { Conflicts: "a.service" })],
    machines: [m1, m2],
    placements: [placed("a.service", M1), placed("b.service", M1)],
    want: { "a.service": M1, "b.service": M2 },
  },
  // --- Replaces
  {
    name: "Replaces: the new unit takes the replaced unit's machine, which moves",
    units: [xUnit("old.service"), xUnit("new.service", { Replaces: "old.service" }), xUnit("x.service")],
    machines: [m1, m2],
    placements: [placed("old.service", M1), placed("x.service", M1)],
    want: { "new.service": M1, "old.service": M2 },
  },
  {
    name: "Replaces, both new: still on different machines",
    units: [xUnit("a-old.service"), xUnit("b-new.service", { Replaces: "a-old.service" })],
    machines: [m1, m2],
    want: { "b-new.service": M1, "a-old.service": M2 },
  },
  {
    name: "Replaces: nowhere else for the replaced unit",
    units: [xUnit("old.service"), xUnit("new.service", { Replaces: "old.service" })],
    machines: [m1],
    placements: [placed("old.service", M1)],
    want: { "new.service": M1, "old.service": "" },
    reasons: { "old.service": "is replaced by new.service on every eligible machine" },
  },
  {
    name: "Replaces glob",
    units: [xUnit("app-v1.service"), xUnit("app-v2.service", { Replaces: "app-v[0-1].service" })],
    machines: [m1, m2],
    placements: [placed("app-v1.service", M2)],
    want: { "app-v2.service": M2, "app-v1.service": M1 },
  },
  {
    name: "Replaces: the replaced unit's followers move with it",
    units: [xUnit("old.service"), xUnit("old-side.service", { MachineOf: "old.service" }), xUnit("new.service", { Replaces: "old.service" })],
    machines: [m1, m2],
    placements: [placed("old.service", M1), placed("old-side.service", M1)],
    want: { "new.service": M1, "old.service": M2, "old-side.service": M2 },
  },
  {
    name: "Replaces: a replacer rescheduled off a dead machine takes the replaced unit's machine again",
    units: [xUnit("old.service"), xUnit("new.service", { Replaces: "old.service" })],
    machines: [m2, m3],
    placements: [placed("old.service", M2), placed("new.service", M1)],
    want: { "old.service": M3, "new.service": M2 },
  },
  {
    name: "circular Replaces, both new: only one is placed",
    units: [xUnit("a.service", { Replaces: "b.service" }), xUnit("b.service", { Replaces: "a.service" })],
    machines: [m1, m2],
    want: { "a.service": M1, "b.service": "" },
    reasons: { "b.service": "circular Replaces with a.service: only a.service is placed" },
  },
  {
    name: "circular Replaces: the one already placed stays",
    units: [xUnit("a.service", { Replaces: "b.service" }), xUnit("b.service", { Replaces: "a.service" })],
    machines: [m1, m2],
    placements: [placed("b.service", M2)],
    want: { "a.service": "", "b.service": M2 },
    reasons: { "a.service": "circular Replaces with b.service" },
  },
  {
    name: "circular Replaces, both placed: one is unscheduled",
    units: [xUnit("a.service", { Replaces: "b.service" }), xUnit("b.service", { Replaces: "a.service" })],
    machines: [m1, m2],
    placements: [placed("a.service", M1), placed("b.service", M2)],
    want: { "a.service": M1, "b.service": "" },
  },
  // --- Global, inactive, machines
  {
    name: "Global units are left to the agents, and a stored placement of one is removed",
    units: [xUnit("g.service", { Global: "true" }), xUnit("h.service", { Global: "true" })],
    machines: [m1],
    placements: [placed("h.service", M1)],
    want: {},
  },
  {
    name: "inactive units are unscheduled, and free their place",
    units: [xUnit("a.service", {}, "inactive"), xUnit("b.service", { Conflicts: "a.service", MachineID: M1 })],
    machines: [m1],
    placements: [placed("a.service", M1)],
    want: { "b.service": M1 },
  },
  {
    name: "no live machines",
    units: [xUnit("a.service")],
    machines: [],
    want: { "a.service": "" },
    reasons: { "a.service": "no live machines to place the unit on" },
  },
  {
    name: "ties go to the smallest machine id, units in name order",
    units: [xUnit("c.service"), xUnit("a.service"), xUnit("b.service")],
    machines: [m3, m1, m2],
    want: { "a.service": M1, "b.service": M2, "c.service": M3 },
  },
];

describe("decideSchedule: fleet's placement rules", () => {
  it.each(cases)("$name", ({ units, machines, placements = [], want, reasons = {} }) => {
    const snapshot: ClusterSnapshot = { units, machines, placements };
    const after = schedule(snapshot);
    const got = Object.fromEntries(Object.keys(want).map((name) => [name, after.get(name)?.machineId ?? ""]));
    expect(got).toEqual(want);
    for (const [name, text] of Object.entries(reasons)) expect(after.get(name)?.reason).toContain(text);
    // Inactive and global units keep no placement.
    for (const unit of units) {
      const global = unit.options.some((o) => o.name === "Global" && o.value === "true");
      if (unit.desiredState === "inactive" || global) expect(after.has(unit.name)).toBe(false);
    }
    // Deciding again on the applied result changes nothing.
    expect(decideChanges({ units, machines, placements: [...after.values()] })).toEqual([]);
  });
});

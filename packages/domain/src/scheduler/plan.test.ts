// The Plan's shape: what decideSchedule submits for each kind of change, and the placement
// records the engine writes for it (machineId "" with a reason: unplaceable; "" and "": delete).
import { describe, expect, it } from "vitest";
import { makeMachine, makeUnit, placed } from "../fixtures.js";
import { applyPlacements, EMPTY_PLAN, planChanges, planSize, PlanBuilder, type Plan } from "./plan.js";
import { decideSchedule, LEAST_LOADED, NO_MACHINES, type ClusterSnapshot } from "./scheduler.js";
import { xUnit } from "./scheduler-fixtures.js";

interface Case {
  name: string;
  snapshot: ClusterSnapshot;
  want: Partial<Plan>;
}

const m1 = makeMachine("m1");
const m2 = makeMachine("m2", { region: "west" });

const cases: Case[] = [
  {
    name: "a unit stored nowhere is placed",
    snapshot: { units: [makeUnit("a.service")], placements: [], machines: [m1] },
    want: { place: [{ kind: "place", unitName: "a.service", machineId: "m1", reason: LEAST_LOADED }] },
  },
  {
    name: "a unit whose stored reason said it was unplaced is placed (not moved)",
    snapshot: { units: [makeUnit("a.service")], placements: [placed("a.service", "", NO_MACHINES)], machines: [m1] },
    want: { place: [{ kind: "place", unitName: "a.service", machineId: "m1", reason: LEAST_LOADED }] },
  },
  {
    name: "a unit on a machine that went away moves, saying why",
    snapshot: { units: [makeUnit("a.service")], placements: [placed("a.service", "gone")], machines: [m1] },
    want: { move: [{ kind: "move", unitName: "a.service", from: "gone", machineId: "m1", reason: "machine gone went away" }] },
  },
  {
    name: "a destroyed unit's placement is unscheduled",
    snapshot: { units: [], placements: [placed("a.service", "m1")], machines: [m1] },
    want: { unschedule: [{ kind: "unschedule", unitName: "a.service" }] },
  },
  {
    name: "an inactive unit's placement is unscheduled",
    snapshot: { units: [makeUnit("a.service", "inactive")], placements: [placed("a.service", "m1")], machines: [m1] },
    want: { unschedule: [{ kind: "unschedule", unitName: "a.service" }] },
  },
  {
    name: "a unit no machine can take is unplaceable, with the reason and the machine it leaves",
    snapshot: { units: [xUnit("a.service", { MachineMetadata: "region=east" })], placements: [placed("a.service", "m2")], machines: [m2] },
    want: { unplaceable: [{ kind: "unplaceable", unitName: "a.service", from: "m2", reason: "no machine matches MachineMetadata region=east" }] },
  },
  {
    name: "a new unit with no machine at all is unplaceable from nowhere",
    snapshot: { units: [makeUnit("a.service")], placements: [], machines: [] },
    want: { unplaceable: [{ kind: "unplaceable", unitName: "a.service", from: "", reason: NO_MACHINES }] },
  },
  {
    name: "nothing to do is the empty plan",
    snapshot: { units: [makeUnit("a.service")], placements: [placed("a.service", "m1", LEAST_LOADED)], machines: [m1] },
    want: {},
  },
];

describe("decideSchedule's Plan", () => {
  it.each(cases)("$name", ({ snapshot, want }) => {
    expect(decideSchedule(snapshot)).toEqual({ ...EMPTY_PLAN, ...want });
  });

  it("lists each kind by unit name and writes them as placement records in one name order", () => {
    const planner = new PlanBuilder();
    planner.submit({ kind: "unplaceable", unitName: "d.service", from: "m1", reason: "no room" });
    planner.submit({ kind: "place", unitName: "c.service", machineId: "m2", reason: LEAST_LOADED });
    planner.submit({ kind: "unschedule", unitName: "b.service" });
    planner.submit({ kind: "move", unitName: "a.service", from: "m1", machineId: "m2", reason: "MachineOf=x.service" });
    planner.submit({ kind: "place", unitName: "a0.service", machineId: "m1", reason: LEAST_LOADED });
    const plan = planner.build();
    expect(plan.place.map((c) => c.unitName)).toEqual(["a0.service", "c.service"]);
    expect(planSize(plan)).toBe(5);
    expect(planChanges(plan)).toEqual([
      { unitName: "a.service", machineId: "m2", reason: "MachineOf=x.service" },
      { unitName: "a0.service", machineId: "m1", reason: LEAST_LOADED },
      { unitName: "b.service", machineId: "", reason: "" },
      { unitName: "c.service", machineId: "m2", reason: LEAST_LOADED },
      { unitName: "d.service", machineId: "", reason: "no room" },
    ]);
  });

  it("applied to the stored placements, a plan's records leave nothing more to do", () => {
    const snapshot: ClusterSnapshot = {
      units: [makeUnit("a.service"), makeUnit("b.service", "inactive"), xUnit("c.service", { MachineMetadata: "region=east" })],
      placements: [placed("b.service", "m1"), placed("gone.service", "m1"), placed("c.service", "m1")],
      machines: [m1, m2],
    };
    const placements = applyPlacements(snapshot.placements, planChanges(decideSchedule(snapshot)));
    expect(placements.map((p) => [p.unitName, p.machineId]).sort()).toEqual([
      ["a.service", "m1"],
      ["c.service", ""],
    ]);
    expect(decideSchedule({ ...snapshot, placements })).toEqual(EMPTY_PLAN);
  });
});

import { describe, expect, it } from "vitest";
import type { Placement, Unit, UnitState } from "@fleet/domain";
import { UnitsReplica, type UnitsDelta } from "./units-replica.js";

const M1 = "1".repeat(32);
const M2 = "2".repeat(32);

const unit = (name: string, hash = "h1"): Unit => ({ name, options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }], hash, desiredState: "launched" });
const placed = (unitName: string, machineId: string, reason = ""): Placement => ({ unitName, machineId, reason });
const state = (name: string, machineId: string, currentState: "launched" | "loaded" | "inactive", hash = "h1"): UnitState => ({
  name,
  machineId,
  hash,
  loadState: "loaded",
  activeState: currentState === "launched" ? "active" : "inactive",
  subState: currentState === "launched" ? "running" : "dead",
  currentState,
});
const delta = (d: Partial<UnitsDelta>): UnitsDelta => ({ units: [], removedUnits: [], placements: [], removedPlacements: [], states: [], removedStates: [], ...d });

function cluster(): UnitsReplica {
  return UnitsReplica.fromSnapshot(
    delta({
      units: [unit("c.service"), unit("a.service"), unit("b.service")],
      placements: [placed("a.service", M1), placed("b.service", "", "no machine matches MachineMetadata=disk=ssd")],
      states: [state("a.service", M1, "launched"), state("a.service", M2, "inactive")],
    }),
  );
}

describe("UnitsReplica", () => {
  it("pages the units by name, each with its placement and the state of the machine it is placed on", () => {
    const r = cluster();
    expect(r.page(0, 2)).toEqual({
      total: 3,
      views: [
        { unit: unit("a.service"), machineId: M1, currentState: "launched", reason: "" },
        { unit: unit("b.service"), machineId: "", currentState: "inactive", reason: "no machine matches MachineMetadata=disk=ssd" },
      ],
    });
    expect(r.page(2, 2).views.map((v) => v.unit.name)).toEqual(["c.service"]);
    expect(r.page(0, 0).views.map((v) => v.unit.name)).toEqual(["a.service", "b.service", "c.service"]);
    expect(r.page(5, 2)).toEqual({ views: [], total: 3 });
  });

  const cases: Array<{ name: string; change: Partial<UnitsDelta>; page: string[]; a?: { machineId: string; currentState: string } }> = [
    { name: "a new unit takes its place in the order", change: { units: [unit("aa.service")] }, page: ["a.service", "aa.service", "b.service", "c.service"] },
    { name: "a removed unit leaves it", change: { removedUnits: ["b.service"] }, page: ["a.service", "c.service"] },
    { name: "a state report changes the current state", change: { states: [state("a.service", M1, "loaded")] }, page: ["a.service", "b.service", "c.service"], a: { machineId: M1, currentState: "loaded" } },
    { name: "a state removed: inactive", change: { removedStates: [{ unitName: "a.service", machineId: M1 }] }, page: ["a.service", "b.service", "c.service"], a: { machineId: M1, currentState: "inactive" } },
    { name: "a unit moved: the new machine's state counts", change: { placements: [placed("a.service", M2)] }, page: ["a.service", "b.service", "c.service"], a: { machineId: M2, currentState: "inactive" } },
    { name: "a placement removed: unplaced", change: { removedPlacements: ["a.service"] }, page: ["a.service", "b.service", "c.service"], a: { machineId: "", currentState: "inactive" } },
    { name: "replaced contents: the old contents' state is not current", change: { units: [unit("a.service", "h2")] }, page: ["a.service", "b.service", "c.service"], a: { machineId: M1, currentState: "inactive" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = cluster();
      r.apply(delta(c.change));
      expect(r.page(0, 0).views.map((v) => v.unit.name)).toEqual(c.page);
      if (c.a) expect(r.view("a.service")).toMatchObject(c.a);
    });
  }

  it("lists states by unit then machine, filtered by machine and names as the gateway does", () => {
    const r = cluster();
    r.apply(delta({ states: [state("c.service", M2, "launched")] }));
    const keys = (states: UnitState[]) => states.map((s) => `${s.name}@${s.machineId[0]}`);
    expect(keys(r.listStates("", []))).toEqual(["a.service@1", "a.service@2", "c.service@2"]);
    expect(keys(r.listStates(M2, []))).toEqual(["a.service@2", "c.service@2"]);
    expect(keys(r.listStates("", ["c.service", "a.service", "c.service"]))).toEqual(["a.service@1", "a.service@2", "c.service@2"]);
    expect(keys(r.listStates(M1, ["c.service"]))).toEqual([]);
    expect(keys(r.listStates("", ["nope.service"]))).toEqual([]);
    // Every state, held between changes: a change shows in the next list.
    r.apply(delta({ removedStates: [{ unitName: "a.service", machineId: M2 }], states: [state("b.service", M1, "loaded")] }));
    expect(keys(r.listStates("", []))).toEqual(["a.service@1", "b.service@1", "c.service@2"]);
  });

  it("gives a unit's record and view, and nothing for a unit it does not hold", () => {
    const r = cluster();
    expect(r.record("a.service")?.states.map((s) => s.machineId)).toEqual([M1, M2]);
    expect(r.record("a.service")?.placement).toEqual(placed("a.service", M1));
    expect(r.record("nope.service")).toBeUndefined();
    expect(r.view("nope.service")).toBeUndefined();
  });
});

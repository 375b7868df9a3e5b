import { describe, expect, it } from "vitest";
import { globalUnitEligible, globalUnitsForMachine } from "./global-eligibility.js";
import type { ClusterSnapshot } from "./scheduler.js";
import { applyChanges, decideChanges, hexId, hexMachine, xUnit } from "./scheduler-fixtures.js";
import type { Unit } from "../types.js";
import { isGlobalUnit, xFleetError } from "../unit-files/index.js";

const machine = hexMachine(1, { region: "east", disk: "ssd" });

describe("globalUnitEligible", () => {
  it.each([
    { name: "no requirements", unit: xUnit("g.service", { Global: "true" }), others: [], want: true },
    { name: "metadata matches", unit: xUnit("g.service", { Global: "true", MachineMetadata: "region=east" }), others: [], want: true },
    {
      name: "metadata OR matches",
      unit: xUnit("g.service", { Global: "true", MachineMetadata: ["region=west", "region=east"] }),
      others: [],
      want: true,
    },
    {
      name: "metadata AND fails",
      unit: xUnit("g.service", { Global: "true", MachineMetadata: '"region=east" "disk=hdd"' }),
      others: [],
      want: /does not match MachineMetadata disk=hdd and region=east/,
    },
    {
      name: "its Conflicts match a unit there",
      unit: xUnit("g.service", { Global: "true", Conflicts: "web*" }),
      others: [xUnit("web1.service")],
      want: /conflicts with web1.service .*\(Conflicts=web\*\)/,
    },
    {
      name: "a unit there conflicts with it",
      unit: xUnit("g.service", { Global: "true" }),
      others: [xUnit("web1.service", { Conflicts: "g.*" })],
      want: /conflicts with web1.service .*\(its Conflicts=g.\*\)/,
    },
    {
      name: "inactive units do not count",
      unit: xUnit("g.service", { Global: "true", Conflicts: "web*" }),
      others: [xUnit("web1.service", {}, "inactive")],
      want: true,
    },
    {
      name: "the unit itself does not count",
      unit: xUnit("g.service", { Global: "true", Conflicts: "g.service" }),
      others: [xUnit("g.service", { Global: "true", Conflicts: "g.service" })],
      want: true,
    },
  ])("$name", ({ unit, others, want }) => {
    const result = globalUnitEligible(unit, machine, others);
    if (want === true) expect(result).toBe(true);
    else if (want === false) expect(result).not.toBe(true);
    else expect(result).toMatch(want);
  });

  it("of two global units in conflict, the first by name runs", () => {
    const a = xUnit("a.service", { Global: "true", Conflicts: "b.service" });
    const b = xUnit("b.service", { Global: "true" });
    const result = globalUnitsForMachine([b, a], machine, []);
    expect(result.map((r) => [r.unit.name, r.eligible === true])).toEqual([
      ["a.service", true],
      ["b.service", false],
    ]);
  });
});

describe("a global unit with Conflicts across the cluster (engine's schedule, then each machine's agent)", () => {
  // Where every unit runs: the engine's placements for the placed units, and on each machine
  // the global units its agent accepts next to them.
  function whereUnitsRun(snapshot: ClusterSnapshot): Record<string, string[]> {
    const placed = applyChanges(snapshot, decideChanges(snapshot));
    const units = new Map(snapshot.units.map((u) => [u.name, u]));
    const out: Record<string, string[]> = {};
    for (const m of snapshot.machines) {
      const here = placed.placements.filter((p) => p.machineId === m.id).map((p) => units.get(p.unitName) as Unit);
      const globals = globalUnitsForMachine(snapshot.units.filter((u) => isGlobalUnit(u.options)), m, here);
      out[m.id.slice(-2)] = [...here.map((u) => u.name), ...globals.filter((g) => g.eligible === true).map((g) => g.unit.name)].sort();
    }
    return out;
  }
  const x = xUnit("x.service", { MachineID: hexId(1) });
  const free = xUnit("x.service");
  const g = xUnit("g.service", { Global: "true", Conflicts: "x.service" });
  const m1 = hexMachine(1);
  const m2 = hexMachine(2);
  const m3 = hexMachine(3);

  it("is accepted (fleet 1.0 accepts Global with Conflicts)", () => {
    expect(xFleetError(g.name, g.options)).toBeUndefined();
  });

  it("runs on every machine except the one running the unit it conflicts with", () => {
    expect(whereUnitsRun({ units: [x, g], placements: [], machines: [m1, m2, m3] })).toEqual({
      "01": ["x.service"],
      "02": ["g.service"],
      "03": ["g.service"],
    });
  });

  it("the other unit's Conflicts count too", () => {
    const other = xUnit("x.service", { Conflicts: "g.*" });
    const plain = xUnit("g.service", { Global: "true" });
    const placements = [{ unitName: "x.service", machineId: hexId(2), reason: "" }];
    expect(whereUnitsRun({ units: [other, plain], placements, machines: [m1, m2] })).toEqual({ "01": ["g.service"], "02": ["x.service"] });
  });

  it("when the machine of the conflicting unit is lost, that unit moves and the global unit yields its new machine", () => {
    const before: ClusterSnapshot = { units: [free, g], placements: [{ unitName: "x.service", machineId: hexId(1), reason: "" }], machines: [m1, m2] };
    expect(whereUnitsRun(before)).toEqual({ "01": ["x.service"], "02": ["g.service"] });
    const lost: ClusterSnapshot = { ...before, machines: [m2] };
    expect(whereUnitsRun(lost)).toEqual({ "02": ["x.service"] });
    // The lost machine comes back: the global unit runs there, the other unit stays.
    const placed = applyChanges(lost, decideChanges(lost));
    expect(whereUnitsRun({ ...placed, machines: [m1, m2] })).toEqual({ "01": ["g.service"], "02": ["x.service"] });
  });

  it("a conflicting unit that is not wanted (inactive) does not keep the global unit away", () => {
    const inactive = xUnit("x.service", { MachineID: hexId(1) }, "inactive");
    expect(whereUnitsRun({ units: [inactive, g], placements: [], machines: [m1, m2] })).toEqual({ "01": ["g.service"], "02": ["g.service"] });
  });
});

import { describe, expect, it } from "vitest";
import { globalUnitEligible, globalUnitsForMachine } from "./global-eligibility.js";
import { hexMachine, xUnit } from "./scheduler-fixtures.js";

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

import { describe, expect, it } from "vitest";
import type { UnitOption } from "@fleet/domain";
import { xFleetConflict } from "./unit-body.js";

const ID = "0123456789abcdef0123456789abcdef";
const service: UnitOption = { section: "Service", name: "ExecStart", value: "/bin/sleep 100" };
const xFleet = (spec: Record<string, string>): UnitOption[] => [
  service,
  ...Object.entries(spec).map(([name, value]) => ({ section: "X-Fleet", name, value })),
];

// Golden: fleet 1.0's ValidateOptions (api/units.go, v1.0.0), the answer of PUT /units/<name>
// for every pair of these [X-Fleet] options: its exact words where it refuses, none where it
// accepts.
const VALUES: Record<string, string> = { MachineID: ID, MachineOf: "db.service", Conflicts: "web*", Global: "true", Replaces: "old.service", MachineMetadata: "region=east" };
const PAIRS: ReadonlyArray<[a: string, b: string, fleet: string | undefined]> = [
  ["MachineID", "MachineOf", "MachineID cannot be used with Peers"],
  ["MachineID", "Conflicts", "MachineID cannot be used with Conflicts"],
  ["MachineID", "Global", "MachineID cannot be used with Global"],
  ["MachineID", "Replaces", "MachineID cannot be used with Replaces"],
  ["MachineID", "MachineMetadata", undefined],
  ["MachineOf", "Conflicts", undefined],
  ["MachineOf", "Global", "Global cannot be used with Peers"],
  ["MachineOf", "Replaces", undefined],
  ["MachineOf", "MachineMetadata", undefined],
  ["Conflicts", "Global", undefined],
  ["Conflicts", "Replaces", "Conflicts cannot be used with Replaces"],
  ["Conflicts", "MachineMetadata", undefined],
  ["Global", "Replaces", "Global cannot be used with Replaces"],
  ["Global", "MachineMetadata", undefined],
  ["Replaces", "MachineMetadata", undefined],
];

describe("xFleetConflict: fleet 1.0's ValidateOptions (golden)", () => {
  it("covers every pair of the six options", () => {
    const names = Object.keys(VALUES);
    expect(PAIRS.length).toBe((names.length * (names.length - 1)) / 2);
    expect(new Set(PAIRS.map(([a, b]) => [a, b].sort().join("+"))).size).toBe(PAIRS.length);
  });

  it.each(PAIRS)("%s with %s -> %s", (a, b, fleet) => {
    expect(xFleetConflict(xFleet({ [a]: VALUES[a] ?? "", [b]: VALUES[b] ?? "" }))).toBe(fleet);
    expect(xFleetConflict(xFleet({ [b]: VALUES[b] ?? "", [a]: VALUES[a] ?? "" }))).toBe(fleet);
  });

  it.each<{ name: string; spec: Record<string, string>; want: string | undefined }>([
    { name: "a single option of each kind", spec: { Global: "true" }, want: undefined },
    { name: "Global, Conflicts and MachineMetadata together", spec: { Global: "true", Conflicts: "web* db*", MachineMetadata: "region=east" }, want: undefined },
    { name: "a peer matching a conflict", spec: { MachineOf: "db.service", Conflicts: "web* db*" }, want: 'unresolvable requirements: peer "db.service" matches conflict "db*"' },
    { name: "a peer matching a replace", spec: { MachineOf: "db.service", Replaces: "d?.service" }, want: 'unresolvable requirements: peer "db.service" matches replace "d?.service"' },
    { name: "deprecated X-ConditionMachineID with X-Conflicts", spec: { "X-ConditionMachineID": ID, "X-Conflicts": "web*" }, want: "MachineID cannot be used with Conflicts" },
    { name: "X-ConditionMachineBootID with X-ConditionMachineOf", spec: { "X-ConditionMachineBootID": ID, "X-ConditionMachineOf": "db.service" }, want: "MachineID cannot be used with Peers" },
    { name: "an empty Conflicts is no conflict", spec: { MachineID: ID, Conflicts: "" }, want: undefined },
    { name: "a template's specifiers are not expanded here", spec: { MachineMetadata: "hostname=%i", Global: "true" }, want: undefined },
    { name: "Global=false with MachineID", spec: { Global: "false", MachineID: ID }, want: undefined },
  ])("$name", ({ spec, want }) => {
    expect(xFleetConflict(xFleet(spec))).toBe(want);
  });
});

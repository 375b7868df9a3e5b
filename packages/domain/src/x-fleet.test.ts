import { describe, expect, it } from "vitest";
import { xFleetOptions, type XFleetSpec } from "./scheduler-fixtures.js";
import { isAtMostOnceUnit, isGlobalUnit, readXFleet, splitXFleetValue, xFleetError } from "./x-fleet.js";

const ID = "0123456789abcdef0123456789abcdef";
const read = (name: string, spec: XFleetSpec) => readXFleet(name, xFleetOptions(spec));

describe("splitXFleetValue", () => {
  it.each([
    { value: "a=b", want: ["a=b"] },
    { value: "a=b c=d", want: ["a=b", "c=d"] },
    { value: '"a=b" "c=d"', want: ["a=b", "c=d"] },
    { value: '"region=us east" disk=ssd', want: ["region=us east", "disk=ssd"] },
    { value: "  a   b  ", want: ["a", "b"] },
    { value: "", want: [] },
  ])("$value", ({ value, want }) => {
    expect(splitXFleetValue(value)).toEqual(want);
  });
});

describe("readXFleet", () => {
  it.each([
    { name: "no [X-Fleet] section", unit: "a.service", spec: {}, want: {} },
    { name: "MachineID", unit: "a.service", spec: { MachineID: ID }, want: { machineId: ID } },
    { name: "deprecated X-ConditionMachineID", unit: "a.service", spec: { "X-ConditionMachineID": ID }, want: { machineId: ID } },
    {
      name: "modern MachineID wins over the deprecated one",
      unit: "a.service",
      spec: { "X-ConditionMachineID": "f".repeat(32), MachineID: ID },
      want: { machineId: ID },
    },
    { name: "MachineOf", unit: "a.service", spec: { MachineOf: "db.service" }, want: { machineOf: ["db.service"] } },
    { name: "deprecated X-ConditionMachineOf", unit: "a.service", spec: { "X-ConditionMachineOf": "db.service" }, want: { machineOf: ["db.service"] } },
    { name: "MachineOf with %i", unit: "side@3.service", spec: { MachineOf: "web@%i.service" }, want: { machineOf: ["web@3.service"] } },
    { name: "MachineOf with %p", unit: "foo.service", spec: { MachineOf: "%p.socket" }, want: { machineOf: ["foo.socket"] } },
    {
      name: "MachineMetadata, several per line, quoted, and on several lines",
      unit: "a.service",
      spec: { MachineMetadata: ['"region=east" "disk=ssd"', "region=west"] },
      want: { metadata: [["disk", ["ssd"]], ["region", ["east", "west"]]] },
    },
    { name: "deprecated X-ConditionMachineMetadata", unit: "a.service", spec: { "X-ConditionMachineMetadata": "region=east" }, want: { metadata: [["region", ["east"]]] } },
    { name: "Conflicts, several", unit: "a.service", spec: { Conflicts: ["web*", "db.service cache.service"] }, want: { conflicts: ["web*", "db.service", "cache.service"] } },
    { name: "deprecated X-Conflicts", unit: "a.service", spec: { "X-Conflicts": "web*" }, want: { conflicts: ["web*"] } },
    { name: "Conflicts with %p and %n", unit: "web@1.service", spec: { Conflicts: ["%p@*.service", "%n"] }, want: { conflicts: ["web@*.service", "web@1.service"] } },
    { name: "Replaces", unit: "b.service", spec: { Replaces: "a.service" }, want: { replaces: ["a.service"] } },
    { name: "Global=true", unit: "g.service", spec: { Global: "true" }, want: { global: true } },
    { name: "Global, last value wins", unit: "g.service", spec: { Global: ["true", "false"] }, want: { global: false } },
    { name: "Global=yes / 1 / on / t count as true", unit: "g.service", spec: { Global: "T" }, want: { global: true } },
  ])("$name", ({ unit, spec, want }) => {
    expect(read(unit, spec as XFleetSpec)).toEqual({ global: false, machineId: undefined, machineOf: [], metadata: [], conflicts: [], replaces: [], ...want });
  });

  it("isAtMostOnceUnit: the last value counts, fleet's truthy spellings", () => {
    expect(isAtMostOnceUnit(xFleetOptions({ AtMostOnce: "true" }))).toBe(true);
    expect(isAtMostOnceUnit(xFleetOptions({ AtMostOnce: ["true", "false"] }))).toBe(false);
    expect(isAtMostOnceUnit(xFleetOptions({ AtMostOnce: "ON" }))).toBe(true);
    expect(isAtMostOnceUnit(xFleetOptions({}))).toBe(false);
  });

  it("isGlobalUnit agrees", () => {
    expect(isGlobalUnit(xFleetOptions({ Global: "true" }))).toBe(true);
    expect(isGlobalUnit(xFleetOptions({ Global: '"yes"' }))).toBe(true);
    expect(isGlobalUnit(xFleetOptions({ Global: "false" }))).toBe(false);
    expect(isGlobalUnit(xFleetOptions({}))).toBe(false);
  });
});

describe("xFleetError", () => {
  it.each([
    { name: "no [X-Fleet] section", spec: {}, want: undefined },
    { name: "every option that combines well", spec: { MachineOf: "db.service", MachineMetadata: "region=east", Conflicts: "web*" }, want: undefined },
    { name: "Global with MachineMetadata and Conflicts", spec: { Global: "true", MachineMetadata: "region=east", Conflicts: "web*" }, want: undefined },
    { name: "unknown option", spec: { MachineId: ID }, want: /unknown \[X-Fleet\] option "MachineId"/ },
    { name: "MachineID too short", spec: { MachineID: "0123abcd" }, want: /MachineID=0123abcd is not a machine ID: it must be the full 32-character/ },
    { name: "MachineID not hex", spec: { MachineID: "z".repeat(32) }, want: /not a machine ID/ },
    { name: "deprecated MachineID checked too", spec: { "X-ConditionMachineID": "abc" }, want: /MachineID=abc is not a machine ID/ },
    { name: "MachineMetadata without =", spec: { MachineMetadata: "region" }, want: /MachineMetadata value "region" is malformed/ },
    { name: "MachineMetadata with an empty value", spec: { MachineMetadata: '"region=east" "disk="' }, want: /"disk=" is malformed/ },
    { name: "unbalanced quote", spec: { MachineMetadata: '"region=east' }, want: /unbalanced double quote/ },
    { name: "malformed Conflicts glob", spec: { Conflicts: "web[" }, want: /Conflicts=web\[: .*malformed/ },
    { name: "Global with MachineID", spec: { Global: "true", MachineID: ID }, want: /Global=true cannot be combined with MachineID/ },
    { name: "Global with MachineOf", spec: { Global: "true", MachineOf: "db.service" }, want: /Global=true cannot be combined with MachineOf/ },
    { name: "Global with Replaces", spec: { Global: "true", Replaces: "old.service" }, want: /Global=true cannot be combined with Replaces/ },
    { name: "Global=false with MachineID is fine", spec: { Global: "false", MachineID: ID }, want: undefined },
    { name: "Replaces with Conflicts", spec: { Replaces: "old.service", Conflicts: "web*" }, want: /Replaces cannot be combined with Conflicts/ },
    { name: "MachineID with MachineOf", spec: { MachineID: ID, MachineOf: "db.service" }, want: /MachineID cannot be combined with MachineOf/ },
    { name: "MachineOf matching its own Conflicts", spec: { MachineOf: "db.service", Conflicts: "db*" }, want: /unresolvable requirements: MachineOf=db.service matches Conflicts=db\*/ },
    { name: "MachineOf itself", spec: { MachineOf: "%n" }, want: /MachineOf=a.service names the unit itself/ },
    { name: "AtMostOnce=true", spec: { AtMostOnce: "true" }, want: undefined },
    { name: "AtMostOnce=no", spec: { AtMostOnce: "no" }, want: undefined },
    { name: "AtMostOnce with placement options", spec: { AtMostOnce: "yes", MachineMetadata: "region=east", Conflicts: "web*" }, want: undefined },
    { name: "AtMostOnce not a boolean", spec: { AtMostOnce: "maybe" }, want: /AtMostOnce=maybe is not a boolean: use true or false/ },
    { name: "AtMostOnce=true with Global", spec: { Global: "true", AtMostOnce: "true" }, want: /Global=true cannot be combined with AtMostOnce=true/ },
    { name: "AtMostOnce=false with Global is fine", spec: { Global: "true", AtMostOnce: "false" }, want: undefined },
  ])("$name", ({ spec, want }) => {
    const error = xFleetError("a.service", xFleetOptions(spec as XFleetSpec));
    if (want === undefined) expect(error).toBeUndefined();
    else expect(error).toMatch(want);
  });
});

import { describe, expect, it } from "vitest";
import { xFleetOptions, type XFleetSpec } from "../scheduler/scheduler-fixtures.js";
import { isAtMostOnceUnit, isGlobalUnit, readXFleet, splitXFleetValue, xFleetError } from "./index.js";

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

// Golden: fleet 1.0's ValidateOptions (api/units.go, v1.0.0) refuses exactly these pairs of
// [X-Fleet] options (its words in `fleet`), and accepts every other pair. The HTTP API answers
// with fleet's words (services/api/src/http/unit-body.test.ts); the registry with its own.
const VALUES: XFleetSpec = { MachineID: ID, MachineOf: "db.service", Conflicts: "web*", Global: "true", Replaces: "old.service", MachineMetadata: "region=east" };
const FLEET_1_0_PAIRS: ReadonlyArray<{ a: string; b: string; fleet: string | undefined; ours: RegExp | undefined }> = [
  { a: "MachineID", b: "MachineOf", fleet: "MachineID cannot be used with Peers", ours: /MachineID cannot be combined with MachineOf/ },
  { a: "MachineID", b: "Conflicts", fleet: "MachineID cannot be used with Conflicts", ours: /MachineID cannot be combined with Conflicts/ },
  { a: "MachineID", b: "Global", fleet: "MachineID cannot be used with Global", ours: /Global=true cannot be combined with MachineID/ },
  { a: "MachineID", b: "Replaces", fleet: "MachineID cannot be used with Replaces", ours: /MachineID cannot be combined with Replaces/ },
  { a: "MachineID", b: "MachineMetadata", fleet: undefined, ours: undefined },
  { a: "MachineOf", b: "Conflicts", fleet: undefined, ours: undefined },
  { a: "MachineOf", b: "Global", fleet: "Global cannot be used with Peers", ours: /Global=true cannot be combined with MachineOf/ },
  { a: "MachineOf", b: "Replaces", fleet: undefined, ours: undefined },
  { a: "MachineOf", b: "MachineMetadata", fleet: undefined, ours: undefined },
  { a: "Conflicts", b: "Global", fleet: undefined, ours: undefined },
  { a: "Conflicts", b: "Replaces", fleet: "Conflicts cannot be used with Replaces", ours: /Replaces cannot be combined with Conflicts/ },
  { a: "Conflicts", b: "MachineMetadata", fleet: undefined, ours: undefined },
  { a: "Global", b: "Replaces", fleet: "Global cannot be used with Replaces", ours: /Global=true cannot be combined with Replaces/ },
  { a: "Global", b: "MachineMetadata", fleet: undefined, ours: undefined },
  { a: "Replaces", b: "MachineMetadata", fleet: undefined, ours: undefined },
];

describe("xFleetError: pairs of options, as fleet 1.0 accepts and refuses them (golden)", () => {
  it("covers every pair of the six options", () => {
    const names = Object.keys(VALUES);
    expect(FLEET_1_0_PAIRS.length).toBe((names.length * (names.length - 1)) / 2);
    for (const [i, a] of names.entries()) for (const b of names.slice(i + 1)) expect(FLEET_1_0_PAIRS.some((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a)), `${a}+${b}`).toBe(true);
  });

  it.each(FLEET_1_0_PAIRS)("$a with $b", ({ a, b, fleet, ours }) => {
    const error = xFleetError("a.service", xFleetOptions({ [a]: VALUES[a] as string, [b]: VALUES[b] as string }));
    if (fleet === undefined) expect(error).toBeUndefined();
    else expect(error).toMatch(ours as RegExp);
  });

  it.each<{ name: string; spec: XFleetSpec; want: RegExp | undefined }>([
    { name: "MachineOf matching Conflicts", spec: { MachineOf: "db.service", Conflicts: "db*" }, want: /unresolvable requirements: MachineOf=db.service matches Conflicts=db\*/ },
    { name: "MachineOf matching Replaces", spec: { MachineOf: "db.service", Replaces: "db.service" }, want: /unresolvable requirements: MachineOf=db.service matches Replaces=db.service/ },
    { name: "deprecated names count: X-ConditionMachineID with X-Conflicts", spec: { "X-ConditionMachineID": ID, "X-Conflicts": "web*" }, want: /MachineID cannot be combined with Conflicts/ },
    { name: "Global with Conflicts and MachineMetadata", spec: { Global: "true", Conflicts: "web*", MachineMetadata: "region=east" }, want: undefined },
  ])("$name", ({ spec, want }) => {
    const error = xFleetError("a.service", xFleetOptions(spec));
    if (want === undefined) expect(error).toBeUndefined();
    else expect(error).toMatch(want);
  });
});

describe("specifiers in a template's [X-Fleet] values: checked per instance, after expansion", () => {
  const options = xFleetOptions({ MachineMetadata: "hostname=%i" });

  it("accepts the template, whose %i is empty (fleet 1.0 accepts it)", () => {
    expect(xFleetError("metadata@.service", options)).toBeUndefined();
  });

  it("each instance reads its own value", () => {
    expect(xFleetError("metadata@m1.service", options)).toBeUndefined();
    expect(readXFleet("metadata@m1.service", options).metadata).toEqual([["hostname", ["m1"]]]);
    expect(readXFleet("metadata@m2.service", options).metadata).toEqual([["hostname", ["m2"]]]);
  });

  it("a plain unit is checked with its own (empty) instance", () => {
    expect(xFleetError("metadata.service", options)).toMatch(/MachineMetadata value "hostname=" is malformed/);
  });

  it.each<{ name: string; spec: XFleetSpec; instance: string; want: RegExp | undefined }>([
    { name: "MachineID", spec: { MachineID: "%i" }, instance: "x@0123.service", want: /MachineID=0123 is not a machine ID/ },
    { name: "MachineID naming the machine", spec: { MachineID: "%i" }, instance: `x@${ID}.service`, want: undefined },
    { name: "Conflicts", spec: { Conflicts: "%p-%i[" }, instance: "x@a.service", want: /Conflicts=x-a\[: .*malformed/ },
    { name: "MachineOf the unit itself", spec: { MachineOf: "%n" }, instance: "x@a.service", want: /MachineOf=x@a.service names the unit itself/ },
    { name: "MachineOf a sidekick", spec: { MachineOf: "web@%i.service" }, instance: "x@a.service", want: undefined },
  ])("$name: the template is accepted, the instance checked", ({ spec, instance, want }) => {
    const opts = xFleetOptions(spec);
    expect(xFleetError("x@.service", opts)).toBeUndefined();
    const error = xFleetError(instance, opts);
    if (want === undefined) expect(error).toBeUndefined();
    else expect(error).toMatch(want);
  });

  it("pairs are still refused in a template", () => {
    expect(xFleetError("x@.service", xFleetOptions({ MachineID: "%i", MachineOf: "db.service" }))).toMatch(/MachineID cannot be combined with MachineOf/);
  });
});

// Golden cases of PUT /units/<name>, recorded from fleet 1.0 (v1.0.0's api/units.go, set and
// create, and the cases of its units_test.go TestUnitsSetDesiredState), plus the two checks
// this API makes where fleet 1.0 skipped them on a replacement (marked "ours").
import { describe, expect, it } from "vitest";
import { parseUnitFile, type TargetState, type UnitOption } from "@fleet/domain";
import { HttpError } from "./http-error.js";
import { decideUnitPut, type PutDecision } from "./unit-put.js";
import { xFleetConflict, type UnitBody } from "./unit-body.js";

const SLEEP_1 = [{ section: "Service", name: "ExecStart", value: "/bin/sleep 1" }];
const SLEEP_2 = [{ section: "Service", name: "ExecStart", value: "/bin/sleep 2" }];
const body = (options: readonly UnitOption[], desiredState?: TargetState): UnitBody => ({ name: undefined, options, desiredState });

interface Case {
  readonly name: string;
  readonly unit?: string;
  readonly existing: readonly UnitOption[] | undefined;
  readonly body: UnitBody;
  readonly want: PutDecision | { readonly status: number; readonly message: string };
}

const cases: Case[] = [
  // units_test.go: "Modify the desired State of an existing Job"
  { name: "existing unit, desired state only: 204, state set", existing: SLEEP_1, body: body([], "launched"), want: { kind: "set-state", desiredState: "launched" } },
  // units_test.go: "Create a new Unit"
  {
    name: "new unit with options: 201 at the desired state given",
    existing: undefined,
    body: body(SLEEP_1, "loaded"),
    want: { kind: "write", why: "new unit", options: SLEEP_1, desiredState: "loaded" },
  },
  // units.go create: CreateUnit's TargetState is inactive unless one is given
  { name: "new unit without a desired state: 201, inactive", existing: undefined, body: body(SLEEP_1), want: { kind: "write", why: "new unit", options: SLEEP_1, desiredState: "inactive" } },
  // units_test.go: "Creating a new Unit without Options fails"
  { name: "new unit without options: 409", existing: undefined, body: body([], "loaded"), want: { status: 409, message: "unit does not exist and options field empty" } },
  // units_test.go: "Attempts to load/launch a template unit should fail"
  {
    name: "launching an existing template: 400",
    unit: "XXX@.service",
    existing: SLEEP_1,
    body: body([], "launched"),
    want: { status: 400, message: 'cannot activate template "XXX@.service"' },
  },
  // units.go set: options whose hash differs are "a new version": create (PrevIgnore) -> 201
  {
    name: "existing unit, other options and a desired state (issue 9's repro: sleep 1, then sleep 2 loaded): 201, replaced",
    existing: SLEEP_1,
    body: body(SLEEP_2, "loaded"),
    want: { kind: "write", why: "contents differ", options: SLEEP_2, desiredState: "loaded" },
  },
  {
    name: "existing unit, other options, no desired state (fleetctl 1.0's --replace): 201, replaced and inactive",
    existing: SLEEP_1,
    body: body(SLEEP_2),
    want: { kind: "write", why: "contents differ", options: SLEEP_2, desiredState: "inactive" },
  },
  // units.go set: the same hash is not a new unit; without a desired state it is a 409
  {
    name: "existing unit, the same options, no desired state: 409",
    existing: SLEEP_1,
    body: body(SLEEP_1),
    want: { status: 409, message: "must provide DesiredState to update existing unit" },
  },
  { name: "existing unit, the same options and a desired state: 204, state set", existing: SLEEP_1, body: body(SLEEP_1, "launched"), want: { kind: "set-state", desiredState: "launched" } },
  {
    name: "the same unit file written with other spacing (same hash): not a replacement",
    existing: parseUnitFile("[Service]\nExecStart=/bin/sleep 1\n"),
    body: body(parseUnitFile("[Service]\n\nExecStart = /bin/sleep 1\n\n"), "loaded"),
    want: { kind: "set-state", desiredState: "loaded" },
  },
  {
    name: "options in another order hash differently (fleet hashes the serialized file): replaced",
    existing: [...SLEEP_1, { section: "Unit", name: "Description", value: "d" }],
    body: body([{ section: "Unit", name: "Description", value: "d" }, ...SLEEP_1], "launched"),
    want: { kind: "write", why: "contents differ", options: [{ section: "Unit", name: "Description", value: "d" }, ...SLEEP_1], desiredState: "launched" },
  },
  // ours: fleet 1.0 did not validate a replacement, but the registry never stores such a unit
  {
    name: "ours: a replacement with [X-Fleet] options that can never be met: 400, as for a new unit",
    existing: SLEEP_1,
    body: body([...SLEEP_2, { section: "X-Fleet", name: "Global", value: "true" }, { section: "X-Fleet", name: "Replaces", value: "a.service" }], "launched"),
    want: { status: 400, message: "Global cannot be used with Replaces" },
  },
  {
    name: "ours: replacing a template and launching it: 400",
    unit: "tpl@.service",
    existing: SLEEP_1,
    body: body(SLEEP_2, "launched"),
    want: { status: 400, message: 'cannot activate template "tpl@.service"' },
  },
  { name: "replacing a template, inactive: 201", unit: "tpl@.service", existing: SLEEP_1, body: body(SLEEP_2), want: { kind: "write", why: "contents differ", options: SLEEP_2, desiredState: "inactive" } },
];

describe("decideUnitPut: fleet 1.0's PUT /units/<name>", () => {
  it.each(cases)("$name", (c) => {
    const decide = () => decideUnitPut(c.unit ?? "rep.service", c.body, c.existing && { options: c.existing }, xFleetConflict);
    if (!("status" in c.want)) {
      expect(decide()).toEqual(c.want);
      return;
    }
    let thrown: unknown;
    try {
      decide();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect({ status: (thrown as HttpError).status, message: (thrown as HttpError).message }).toEqual(c.want);
  });
});

// Golden cases of PATCH /machines bodies, recorded from fleet 1.0 (v1.0.0's api/machines.go,
// whose machineMetadataOp decodes `"value": {"value": ...}`, and the bodies of its
// machines_test.go), with 32-hex machine ids where fleet's tests used "XXX" and "YYY": this API
// refuses an id no machine can have (the one deliberate difference, last case).
import { describe, expect, it } from "vitest";
import { HttpError } from "./http-error.js";
import { metadataChanges, parseMachinePatch } from "./machine-patch.js";

const X = "a".repeat(32);
const Y = "b".repeat(32);

function refusal(body: string): { status: number; message: string } | undefined {
  try {
    parseMachinePatch(body);
    return undefined;
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return { status: err.status, message: err.message };
  }
}

describe("parseMachinePatch: fleet 1.0's body shape", () => {
  it("TestMachinesPatchAddModify: add and replace with {\"value\": ...}", () => {
    const body = `[{"op": "add", "path": "/${X}/metadata/foo", "value": { "value": "bar" }},
      {"op": "replace", "path": "/${Y}/metadata/ping", "value": { "value": "splat" }}]`;
    expect(metadataChanges(parseMachinePatch(body))).toEqual([
      { machineId: X, set: { foo: "bar" }, remove: [] },
      { machineId: Y, set: { ping: "splat" }, remove: [] },
    ]);
  });

  it("TestMachinesPatchDelete: remove needs no value", () => {
    const body = `[{"op": "remove", "path": "/${X}/metadata/foo"}, {"op": "remove", "path": "/${Y}/metadata/ping"}]`;
    expect(metadataChanges(parseMachinePatch(body))).toEqual([
      { machineId: X, set: {}, remove: ["foo"] },
      { machineId: Y, set: {}, remove: ["ping"] },
    ]);
  });

  it.each([
    ["TestMachinesPatchBadOp", `[{"op": "noop", "path": "/${X}/metadata/foo", "value": { "value": "bar" }}]`, "invalid op: expect add, remove, or replace"],
    ["TestMachinesPatchBadPath", `[{"op": "add", "path": "/${X}/foo", "value": { "value": "bar" }}]`, "machine metadata path invalid"],
    ["TestMachinesPatchBadValue", `[{"op": "add", "path": "/${X}/foo"}]`, "machine metadata path invalid"],
    ["machines.go: add and replace require a value", `[{"op": "replace", "path": "/${X}/metadata/foo", "value": {}}]`, "invalid value: add and replace require a value"],
  ])("%s: 400", (_name, body, message) => {
    expect(refusal(body)).toEqual({ status: 400, message });
  });

  it("Go matches field names in any case, the inner one too", () => {
    const body = `[{"OP": "add", "Path": "/${X}/metadata/foo", "VALUE": { "Value": "bar" }}]`;
    expect(parseMachinePatch(body)).toEqual([{ op: "add", machineId: X, key: "foo", value: "bar" }]);
  });

  it("ours: a plain string value (JSON Patch's shape) is taken as well", () => {
    expect(parseMachinePatch(`[{"op": "add", "path": "/${X}/metadata/foo", "value": "bar"}]`)).toEqual([{ op: "add", machineId: X, key: "foo", value: "bar" }]);
  });

  it("ours: a machine id that is not 32 hex digits is refused (fleet stored metadata under any string)", () => {
    expect(refusal(`[{"op": "add", "path": "/XXX/metadata/foo", "value": { "value": "bar" }}]`)).toEqual({
      status: 400,
      message: 'invalid machine id "XXX": expected 32 lowercase hex digits',
    });
  });
});

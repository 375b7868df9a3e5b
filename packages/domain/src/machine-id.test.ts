import { describe, expect, it } from "vitest";
import { FleetError } from "./errors.js";
import { assertMachineId, isMachineId, machineIdError } from "./machine-id.js";

describe("machine ids", () => {
  it.each([
    ["0123456789abcdef0123456789abcdef", true],
    ["0123456789ABCDEF0123456789ABCDEF", false],
    ["0123456789abcdef0123456789abcde", false],
    ["0123456789abcdef0123456789abcdef0", false],
    ["m1", false],
    ["", false],
  ])("%j is a machine id: %s", (id, ok) => {
    expect(isMachineId(id)).toBe(ok);
    expect(machineIdError(id) === undefined).toBe(ok);
  });

  it("refuses others with an invalid-argument FleetError in the words users see", () => {
    expect(() => assertMachineId("m1")).toThrow(FleetError);
    expect(() => assertMachineId("m1")).toThrow('invalid machine id "m1": expected 32 lowercase hex digits');
  });
});

import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { assertMachineId, assertValidUnitName, FleetError as DomainFleetError } from "@fleet/domain";
import { FleetError, fromServiceError, toServiceError } from "./errors.js";

const thrown = (fn: () => void): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe("errors: the domain's FleetError over gRPC status", () => {
  it("is the domain's class, re-exported", () => {
    expect(FleetError).toBe(DomainFleetError);
  });

  it("carries kind, message and outcome to the client and back", () => {
    const sent = toServiceError(new FleetError("aborted", "machine m is registered again", "not-applied"));
    expect(sent.code).toBe(status.ABORTED);
    const got = fromServiceError(Object.assign(new Error("x"), sent));
    expect(got).toMatchObject({ kind: "aborted", message: "machine m is registered again", outcome: "not-applied" });
  });

  it("sends the domain's validation errors as INVALID_ARGUMENT with their message", () => {
    for (const [err, message] of [
      [thrown(() => assertValidUnitName("a/b.service")), 'invalid unit name "a/b.service": only [a-zA-Z0-9:_.@-] are allowed'],
      [thrown(() => assertMachineId("m1")), 'invalid machine id "m1": expected 32 lowercase hex digits'],
    ] as const) {
      expect(toServiceError(err)).toMatchObject({ code: status.INVALID_ARGUMENT, details: message });
    }
  });

  it("sends anything else as INTERNAL", () => {
    expect(toServiceError(new Error("boom"))).toMatchObject({ code: status.INTERNAL, details: "boom" });
  });
});

// The fake behaves like the real backend where the contract tests rely on it.
import { describe, expect, it } from "vitest";
import { FleetError } from "@fleet/wire";
import { FakeFleetBackend } from "./fake-fleet-backend.js";

const unit = { name: "a.service", options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }], hash: "h", desiredState: "inactive" as const };

describe("FakeFleetBackend", () => {
  it("creates, changes and destroys units, recording each write", async () => {
    const b = new FakeFleetBackend();
    await b.createUnit(unit, "r1");
    await b.setUnitTargetState("a.service", "launched", "r2");
    expect((await b.getUnit("a.service", "r3"))?.unit.desiredState).toBe("launched");
    await b.destroyUnit("a.service", "r4");
    expect(await b.getUnit("a.service", "r5")).toBeUndefined();
    expect(b.writes.map((w) => w.method)).toEqual(["createUnit", "setUnitTargetState", "destroyUnit"]);
    expect(b.requestIds).toEqual(["r1", "r2", "r3", "r4", "r5"]);
  });

  it("fails like the real one", async () => {
    const b = new FakeFleetBackend();
    await b.createUnit(unit, "r");
    await expect(b.createUnit(unit, "r")).rejects.toEqual(new FleetError("already-exists", "unit a.service already exists"));
    await expect(b.destroyUnit("b.service", "r")).rejects.toMatchObject({ kind: "not-found" });
    await expect(b.setUnitTargetState("b.service", "loaded", "r")).rejects.toMatchObject({ kind: "not-found" });
    b.failure = new Error("down");
    await expect(b.listMachines("r")).rejects.toThrow("down");
  });

  it("applies metadata changes to its machines", async () => {
    const b = new FakeFleetBackend({ machines: [{ id: "m", publicIp: "", metadata: { a: "1", b: "2" } }] });
    await b.setMachineMetadata({ machineId: "m", set: { c: "3" }, remove: ["a"] }, "r");
    expect((await b.listMachines("r"))[0]?.metadata).toEqual({ b: "2", c: "3" });
  });
});

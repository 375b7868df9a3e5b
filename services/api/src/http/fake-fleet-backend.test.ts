// The fake behaves like the real backend where the contract tests rely on it.
import { ANONYMOUS_ADMIN } from "@fleet/domain";
import { describe, expect, it } from "vitest";
import { FakeFleetBackend } from "./fake-fleet-backend.js";

const unit = { name: "a.service", options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }], hash: "h", desiredState: "inactive" as const };

const call = (requestId: string) => ({ requestId, principal: ANONYMOUS_ADMIN });

describe("FakeFleetBackend", () => {
  it("creates, changes and destroys units, recording each write", async () => {
    const b = new FakeFleetBackend();
    await b.replaceUnit(unit, call("r1"));
    await b.setUnitTargetState("a.service", "launched", call("r2"));
    expect((await b.getUnit("a.service", call("r3")))?.unit.desiredState).toBe("launched");
    await b.destroyUnit("a.service", call("r4"));
    expect(await b.getUnit("a.service", call("r5"))).toBeUndefined();
    expect(b.writes.map((w) => w.method)).toEqual(["replaceUnit", "setUnitTargetState", "destroyUnit"]);
    expect(b.requestIds).toEqual(["r1", "r2", "r3", "r4", "r5"]);
  });

  it("replaces a unit's contents and keeps its placement, as the registry does; the same unit again changes nothing", async () => {
    const b = new FakeFleetBackend();
    expect(await b.replaceUnit(unit, call("r"))).toEqual({ created: true, replaced: false });
    b.units.set("a.service", { unit, machineId: "m1", currentState: "launched", reason: "" });
    expect(await b.replaceUnit(unit, call("r"))).toEqual({ created: false, replaced: false });
    const other = { ...unit, hash: "h2", desiredState: "loaded" as const };
    expect(await b.replaceUnit(other, call("r"))).toEqual({ created: false, replaced: true });
    expect(await b.getUnit("a.service", call("r"))).toEqual({ unit: other, machineId: "m1", currentState: "launched", reason: "" });
    expect(b.writes.map((w) => w.method)).toEqual(["replaceUnit", "replaceUnit"]);
  });

  it("fails like the real one", async () => {
    const b = new FakeFleetBackend();
    await expect(b.destroyUnit("b.service", call("r"))).rejects.toMatchObject({ kind: "not-found" });
    await expect(b.setUnitTargetState("b.service", "loaded", call("r"))).rejects.toMatchObject({ kind: "not-found" });
    b.failure = new Error("down");
    await expect(b.listMachines(call("r"))).rejects.toThrow("down");
  });

  it("applies metadata changes to its machines", async () => {
    const b = new FakeFleetBackend({ machines: [{ id: "m", publicIp: "", metadata: { a: "1", b: "2" } }] });
    await b.setMachineMetadata({ machineId: "m", set: { c: "3" }, remove: ["a"] }, call("r"));
    expect((await b.listMachines(call("r")))[0]?.metadata).toEqual({ b: "2", c: "3" });
  });
});

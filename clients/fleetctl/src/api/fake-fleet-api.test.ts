import type { Unit } from "@fleet/domain";
import { describe, expect, it } from "vitest";
import { FakeFleetApi } from "./fake-fleet-api.js";

const unit = (name: string): Unit => ({ name, options: [], hash: "h", desiredState: "inactive" });
const machine = { id: "m1", publicIp: "10.0.0.1", metadata: {} };

describe("FakeFleetApi", () => {
  it("creates inactive, unplaced units and refuses duplicates", async () => {
    const api = new FakeFleetApi();
    await api.createUnit(unit("a.service"));
    expect(await api.getUnit("a.service")).toEqual({ unit: unit("a.service"), machineId: "", currentState: "inactive", reason: "" });
    await expect(api.createUnit(unit("a.service"))).rejects.toThrow("unit a.service already exists");
  });

  it("returns undefined for unknown units and false when destroying them", async () => {
    const api = new FakeFleetApi();
    expect(await api.getUnit("nope.service")).toBeUndefined();
    expect(await api.destroyUnit("nope.service")).toBe(false);
  });

  it("converges a unit to its new desired state after the configured number of reads", async () => {
    const api = new FakeFleetApi({ machines: [machine], convergeAfterPolls: 2 });
    await api.createUnit(unit("a.service"));
    await api.setUnitTargetState("a.service", "launched");
    expect((await api.getUnit("a.service"))?.currentState).toBe("inactive");
    expect((await api.getUnit("a.service"))?.currentState).toBe("inactive");
    const reached = await api.getUnit("a.service");
    expect(reached?.currentState).toBe("launched");
    expect(reached?.machineId).toBe("m1");
    expect(reached?.unit.desiredState).toBe("launched");
  });

  it("unplaces a unit that goes inactive", async () => {
    const api = new FakeFleetApi({ machines: [machine] });
    await api.createUnit(unit("a.service"));
    await api.setUnitTargetState("a.service", "loaded");
    expect((await api.getUnit("a.service"))?.machineId).toBe("m1");
    await api.setUnitTargetState("a.service", "inactive");
    expect(await api.getUnit("a.service")).toMatchObject({ machineId: "", currentState: "inactive" });
  });

  it("reports systemd's state of a unit that got somewhere: active once launched, or as told; none once inactive", async () => {
    const api = new FakeFleetApi({ machines: [machine], activeStates: { "b.service": "failed" } });
    for (const name of ["a.service", "b.service", "c.service"]) {
      await api.createUnit(unit(name));
      await api.setUnitTargetState(name, name === "c.service" ? "loaded" : "launched");
      await api.getUnit(name);
    }
    expect((await api.listUnitStates()).map((s) => [s.name, s.machineId, s.loadState, s.activeState, s.subState, s.currentState])).toEqual([
      ["a.service", "m1", "loaded", "active", "running", "launched"],
      ["b.service", "m1", "loaded", "failed", "failed", "launched"],
      ["c.service", "m1", "loaded", "inactive", "dead", "loaded"],
    ]);
    expect((await api.listUnitStates(["b.service"])).map((s) => s.name)).toEqual(["b.service"]);
    await api.setUnitTargetState("a.service", "inactive");
    await api.getUnit("a.service");
    await api.destroyUnit("b.service");
    expect((await api.listUnitStates()).map((s) => s.name)).toEqual(["c.service"]);
  });

  it("never converges when told so", async () => {
    const api = new FakeFleetApi({ machines: [machine], convergeAfterPolls: "never" });
    await api.createUnit(unit("a.service"));
    await api.setUnitTargetState("a.service", "launched");
    for (let i = 0; i < 5; i++) expect((await api.getUnit("a.service"))?.currentState).toBe("inactive");
  });

  it("records calls, lists the writes, and fails on demand", async () => {
    const api = new FakeFleetApi({ machines: [machine] });
    await api.createUnit(unit("a.service"));
    await api.getUnit("a.service");
    await api.setUnitTargetState("a.service", "loaded");
    await api.destroyUnit("a.service");
    expect(api.calls.map((c) => c.method)).toEqual(["createUnit", "getUnit", "setUnitTargetState", "destroyUnit"]);
    expect(api.writes().map((c) => c.method)).toEqual(["createUnit", "setUnitTargetState", "destroyUnit"]);
    api.failOn("listMachines", new Error("connection refused"));
    await expect(api.listMachines()).rejects.toThrow("connection refused");
    api.close();
    expect(api.closed).toBe(true);
  });
});

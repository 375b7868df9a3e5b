import { describe, expect, it } from "vitest";
import { FakeFleetApi } from "./fake-fleet-api.js";
import { MachineDirectory } from "./machine-directory.js";

const m1 = { id: "m1", publicIp: "10.0.0.1", metadata: {} };
const m2 = { id: "m2", publicIp: "10.0.0.2", metadata: {} };

describe("MachineDirectory", () => {
  it("lists machines once for many lookups", async () => {
    const api = new FakeFleetApi({ machines: [m1, m2] });
    const dir = new MachineDirectory(api);
    expect(await dir.lookup("m1")).toEqual(m1);
    expect(await dir.lookup("m2")).toEqual(m2);
    expect(api.calls.filter((c) => c.method === "listMachines")).toHaveLength(1);
  });

  it("refreshes once when a machine is unknown", async () => {
    const api = new FakeFleetApi({ machines: [m1] });
    const dir = new MachineDirectory(api);
    await dir.lookup("m1");
    api.machines = [m1, m2];
    expect(await dir.lookup("m2")).toEqual(m2);
    expect(await dir.lookup("m3")).toBeUndefined();
    expect(await dir.lookup("m4")).toBeUndefined();
    expect(api.calls.filter((c) => c.method === "listMachines")).toHaveLength(2);
  });

  it("ignores failures", async () => {
    const api = new FakeFleetApi({ machines: [m1] });
    api.failOn("listMachines", new Error("unavailable"));
    const dir = new MachineDirectory(api);
    expect(await dir.lookup("m1")).toBeUndefined();
    expect((await dir.all()).size).toBe(0);
  });
});

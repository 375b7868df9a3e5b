import { describe, expect, it } from "vitest";
import type { UnitState } from "@fleet/domain";
import { fakeRegistry, keys, M1, M2, machine } from "./registry-fixture.js";

const state = (name: string, machineId: string): UnitState => ({
  name,
  machineId,
  hash: "h",
  loadState: "loaded",
  activeState: "active",
  subState: "running",
  currentState: "launched",
});

describe("unit states over a fake store", () => {
  it("are written under the machine's lease and vanish with it", async () => {
    const { store, registry } = fakeRegistry();
    const { leaseId } = await registry.machines.register(machine(M1), 30);
    await registry.states.report(M1, leaseId, [state("a.service", M1), state("b.service", M1)], []);
    expect(registry.states.list("", []).map((s) => s.name)).toEqual(["a.service", "b.service"]);
    await registry.states.report(M1, leaseId, [], ["a.service"]);
    expect(registry.states.list(M1, []).map((s) => s.name)).toEqual(["b.service"]);
    store.expire(leaseId);
    expect(registry.states.list("", [])).toEqual([]);
  });

  it("are refused for a machine not registered under that lease (FAILED_PRECONDITION)", async () => {
    const { registry } = fakeRegistry();
    const { leaseId } = await registry.machines.register(machine(M1), 30);
    await expect(registry.states.report(M2, leaseId, [state("a.service", M2)], [])).rejects.toMatchObject({
      kind: "failed-precondition",
      message: `machine ${M2} is not registered under lease ${leaseId}`,
    });
    await expect(registry.states.report(M1, leaseId, [state("a/b.service", M1)], [])).rejects.toMatchObject({ kind: "invalid-argument" });
  });

  it("are written in fenced batches of at most 100, each compared on the lease", async () => {
    const { store, registry } = fakeRegistry();
    const { leaseId } = await registry.machines.register(machine(M1), 30);
    const sent = store.txns.length;
    await registry.states.report(M1, leaseId, Array.from({ length: 250 }, (_, i) => state(`u${i}.service`, M1)), []);
    const batches = store.txns.slice(sent);
    expect(batches.map((t) => t.req.success?.length)).toEqual([100, 100, 50]);
    expect(batches.every((t) => t.req.compare?.[0]?.key?.toString() === keys.machine(M1) && t.req.compare[0].target === "Lease")).toBe(true);
    expect(registry.states.list(M1, ["u7.service", "u249.service"]).map((s) => s.name)).toEqual(["u249.service", "u7.service"]);
  });

  it("named, are found on every machine that reports them, and forgotten with the report or the lease", async () => {
    const { store, registry } = fakeRegistry();
    const l1 = (await registry.machines.register(machine(M1), 30)).leaseId;
    const l2 = (await registry.machines.register(machine(M2), 30)).leaseId;
    await registry.states.report(M1, l1, [state("a.service", M1), state("b.service", M1)], []);
    await registry.states.report(M2, l2, [state("a.service", M2)], []);
    const named = (names: string[], machineId = "") => registry.states.list(machineId, names).map((s) => `${s.name}@${s.machineId}`);
    expect(named(["b.service", "a.service", "a.service"])).toEqual([`a.service@${M1}`, `a.service@${M2}`, `b.service@${M1}`]);
    expect(named(["a.service"], M2)).toEqual([`a.service@${M2}`]);
    expect(named(["b.service"], M2)).toEqual([]);
    expect(named(["nope.service"])).toEqual([]);
    await registry.states.report(M1, l1, [], ["a.service"]);
    expect(named(["a.service"])).toEqual([`a.service@${M2}`]);
    store.expire(l2);
    expect(named(["a.service", "b.service"])).toEqual([`b.service@${M1}`]);
  });
});

import { describe, expect, it } from "vitest";
import type { Placement } from "@fleet/domain";
import { fakeRegistry, keys, M1, M2, machine, OPTIONS } from "./registry-fixture.js";

const place = (unitName: string, machineId: string, reason = ""): Placement => ({ unitName, machineId, reason });

async function leader() {
  const f = fakeRegistry();
  const term = await f.registry.leadership.acquire("engine-1", 10);
  return { ...f, fence: term.fence };
}

describe("placements over a fake store", () => {
  it("are written and deleted by the leader under its fence", async () => {
    const { store, registry, fence } = await leader();
    await registry.units.create("a.service", OPTIONS, "launched");
    await registry.schedule.apply("engine-1", fence, [place("a.service", M1), place("b.service", "", "no machine fits")]);
    expect(store.cache.placementOf("a.service").machineId).toBe(M1);
    expect(JSON.parse(store.value(keys.schedule("b.service")) ?? "{}")).toEqual({ machineId: "", reason: "no machine fits" });
    await registry.schedule.apply("engine-1", fence, [place("a.service", "")]);
    expect(store.value(keys.schedule("a.service"))).toBeUndefined();
  });

  it("are refused for a deposed leader (FAILED_PRECONDITION), whatever its name or fence", async () => {
    const { registry, fence } = await leader();
    await expect(registry.schedule.apply("engine-2", fence, [place("a.service", M1)])).rejects.toMatchObject({
      kind: "failed-precondition",
      message: `engine engine-2 is not the leader (fence ${fence})`,
    });
    await expect(registry.schedule.apply("engine-1", fence + 1, [place("a.service", M1)])).rejects.toMatchObject({ kind: "failed-precondition" });
  });

  it("are refused (ABORTED) when a machine the leader thinks gone is registered, and not re-sent then", async () => {
    const { store, registry, fence } = await leader();
    await registry.machines.register(machine(M2), 30);
    await expect(registry.schedule.apply("engine-1", fence, [place("a.service", M1)], [M2, M2])).rejects.toMatchObject({
      kind: "aborted",
      message: `machine ${M2} is registered again; nothing was written`,
    });
    expect(store.txns.at(-1)?.op).toBe("txn-once");
    expect(store.value(keys.schedule("a.service"))).toBeUndefined();
    // Without absent machines the write may be re-sent.
    await registry.schedule.apply("engine-1", fence, [place("a.service", M1)]);
    expect(store.txns.at(-1)?.op).toBe("txn-idempotent");
  });

  it("say how many were written when a machine registers between two batches", async () => {
    const { store, registry, fence } = await leader();
    const sent = store.txns.length;
    store.beforeTxn = (n) => {
      if (n === sent + 1) store.put(keys.machine(M2), { publicIp: "10.0.0.2", metadata: {} });
    };
    const placements = Array.from({ length: 150 }, (_, i) => place(`u${i}.service`, M1));
    await expect(registry.schedule.apply("engine-1", fence, placements, [M2])).rejects.toMatchObject({
      kind: "aborted",
      message: `machine ${M2} is registered again; only the first 100 placements were written`,
    });
    expect(store.cache.placementOf("u99.service").machineId).toBe(M1);
    expect(store.cache.placementOf("u100.service").machineId).toBe("");
  });

  it("give an agent its machine's units and every global unit", async () => {
    const { registry, fence } = await leader();
    await registry.units.create("a.service", OPTIONS, "launched");
    await registry.units.create("b.service", OPTIONS, "launched");
    await registry.units.create("g.service", [...OPTIONS, { section: "X-Fleet", name: "Global", value: "true" }], "launched");
    await registry.schedule.apply("engine-1", fence, [place("a.service", M1), place("b.service", M2)]);
    expect(registry.schedule.machineSchedule(M1).map((u) => u.name).sort()).toEqual(["a.service", "g.service"]);
  });
});

describe("leadership over a fake store", () => {
  it("elects one candidate at a time; the fence is the key's create revision", async () => {
    const { store, registry, fence } = await leader();
    expect(store.cache.leader?.createRevision).toBe(fence);
    expect(await registry.leadership.acquire("engine-2", 10)).toMatchObject({ elected: false, leaderId: "engine-1" });
    await expect(registry.leadership.acquire("bad id", 10)).rejects.toThrow('invalid candidate id "bad id"');
  });

  it("renews only the leader of that term, and a resigned leader's term ends with its lease", async () => {
    const { store, registry, fence } = await leader();
    const leaseId = store.cache.leader?.lease ?? "";
    expect(await registry.leadership.renew("engine-1", leaseId, fence)).toBe(true);
    expect(await registry.leadership.renew("engine-1", leaseId, fence + 1)).toBe(false);
    await registry.leadership.resign("engine-1", leaseId, fence);
    expect(store.cache.leader).toBeUndefined();
    const next = await registry.leadership.acquire("engine-2", 10);
    expect(next).toMatchObject({ elected: true, leaderId: "engine-2" });
    expect(next.fence).toBeGreaterThan(fence);
  });

  it("stores the engine status under the fence", async () => {
    const { store, registry, fence } = await leader();
    await registry.leadership.reportEngineStatus("engine-1", fence, { massLoss: "", heldMachines: [] });
    expect(store.value(keys.engineStatus())).toBeDefined();
    await expect(registry.leadership.reportEngineStatus("engine-1", fence + 1, { massLoss: "", heldMachines: [] })).rejects.toMatchObject({ kind: "failed-precondition" });
  });
});

import { describe, expect, it } from "vitest";
import { createLogger } from "@fleet/wire";
import { fakeRegistry, keys, M1, machine } from "./registry-fixture.js";
import { Registry } from "./registry.js";

describe("machines over a fake store", () => {
  it("registers a machine only if absent; its own agent's restart replaces the registration and drops the old lease", async () => {
    const { store, registry } = fakeRegistry();
    const first = await registry.machines.register(machine(M1), 30, "instance-a");
    expect(store.cache.machines.get(M1)?.lease).toBe(first.leaseId);
    store.put(keys.state(M1, "a.service"), { hash: "h", currentState: "launched" }, first.leaseId);

    const again = await registry.machines.register(machine(M1), 30, "instance-a");
    expect(again.leaseId).not.toBe(first.leaseId);
    expect(store.cache.machines.get(M1)?.lease).toBe(again.leaseId);
    // The old lease went, and the unit states reported under it with it.
    expect(store.hasLease(first.leaseId)).toBe(false);
    expect(store.value(keys.state(M1, "a.service"))).toBeUndefined();
  });

  it("refuses a second machine with the same id and revokes the lease it granted for it", async () => {
    const { store, registry } = fakeRegistry();
    const first = await registry.machines.register(machine(M1, "10.0.0.1"), 30, "instance-a");
    const err = await registry.machines.register(machine(M1, "10.0.0.2"), 30, "instance-b").catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "already-exists" });
    expect(store.cache.machines.get(M1)?.lease).toBe(first.leaseId);
    expect(store.hasLease(String(Number(first.leaseId) + 1))).toBe(false);
  });

  it("checks ids, ttl and lease ids in the words users see", async () => {
    const { registry } = fakeRegistry();
    await expect(registry.machines.register(machine("m1"), 30)).rejects.toMatchObject({ kind: "invalid-argument", message: 'invalid machine id "m1": expected 32 lowercase hex digits' });
    await expect(registry.machines.register(machine(M1), 0)).rejects.toThrow("ttl must be between 1 and 3600 seconds");
    await expect(registry.machines.unregister(M1, "x")).rejects.toThrow('invalid lease id "x"');
  });

  it("unregisters only the registration under that lease, and heartbeats only it", async () => {
    const { store, registry } = fakeRegistry();
    const { leaseId } = await registry.machines.register(machine(M1), 30);
    expect(await registry.machines.heartbeat(M1, leaseId)).toBe(true);
    expect(await registry.machines.heartbeat(M1, "999")).toBe(false);
    expect(await registry.machines.unregister(M1, "999")).toMatchObject({ unregistered: false });
    expect(store.cache.machines.has(M1)).toBe(true);
    expect(await registry.machines.unregister(M1, leaseId)).toMatchObject({ unregistered: true });
    expect(store.cache.machines.has(M1)).toBe(false);
    expect(await registry.machines.heartbeat(M1, leaseId)).toBe(false);
    // Re-sent after it applied: unregistered all the same.
    expect(await registry.machines.unregister(M1, leaseId)).toMatchObject({ unregistered: true });
  });

  it("keeps metadata changes apart from the registration, for machines not registered yet too", async () => {
    const { store, registry } = fakeRegistry();
    await registry.machines.setMetadata(M1, { role: "web", zone: "a" }, []);
    await registry.machines.setMetadata(M1, {}, ["zone"]);
    expect(JSON.parse(store.value(keys.machineMetadata(M1)) ?? "{}")).toEqual({ set: { role: "web" }, removed: ["zone"] });
    await expect(registry.machines.setMetadata(M1, { "bad key": "x" }, [])).rejects.toThrow('invalid metadata key "bad key"');
  });

  it("tells the leases of registered machines, leaving out the ones etcd no longer has", async () => {
    const { store, registry } = fakeRegistry();
    const { leaseId } = await registry.machines.register(machine(M1), 30);
    // Heard through this gateway (at registration): the time until it would be declared silent.
    const [lease] = await registry.machines.leases([]);
    expect(lease).toMatchObject({ machineId: M1, grantedMs: 30_000, heard: true });
    expect(lease?.remainingMs).toBeGreaterThan(29_000);
    // Registered through another gateway: what etcd says (granted for twice agent_ttl).
    const other = new Registry(store, keys, createLogger("registry-test", "silent"));
    expect(await other.machines.leases([])).toEqual([{ machineId: M1, remainingMs: 60_000, grantedMs: 60_000, heard: false }]);
    // Only what a gateway hears (no etcd reads), and leaving out machines another one hears.
    expect(await other.machines.leases([], { heardOnly: true })).toEqual([]);
    expect((await registry.machines.leases([], { heardOnly: true })).map((l) => l.machineId)).toEqual([M1]);
    expect(await other.machines.leases([], { except: [M1] })).toEqual([]);
    store.expire(leaseId);
    expect(await registry.machines.leases([M1])).toEqual([]);
  });
});

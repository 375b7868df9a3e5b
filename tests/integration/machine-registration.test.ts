// A machine id registered by two machines (one /etc/machine-id copied into another), and a
// machine leaving the cluster, against a real etcd behind the registry-gateway. fleet 1.0
// created a machine's key only if absent; so does the gateway, telling an agent's own restart
// (the same instance id) from a second machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FleetError, unary, type RegistryServiceClient } from "@fleet/wire";
import { waitFor } from "@fleet/launcher";
import { startGatewayFixture, type GatewayFixture } from "./gateway-fixture.js";

let fx: GatewayFixture;
let c: RegistryServiceClient;
beforeAll(async () => {
  fx = await startGatewayFixture();
  c = fx.client;
});
afterAll(async () => {
  await fx?.stop();
});

const machineId = (n: number) => (0xd00 + n).toString(16).padStart(32, "0");
const machine = (id: string, publicIp: string) => ({ id, publicIp, metadata: {}, version: "", agentEndpoint: "" });
const register = (id: string, publicIp: string, instance: string | undefined, ttlSeconds = 30) =>
  unary(c.registerMachine.bind(c), { machine: machine(id, publicIp), ttlSeconds, ...(instance === undefined ? {} : { instance }) });
const alive = async (id: string, leaseId: string) => (await unary(c.machineHeartbeat.bind(c), { machineId: id, leaseId })).alive;
const listed = async (id: string) => (await unary(c.listMachines.bind(c), { minRevision: 0 })).machines.filter((m) => m.id === id).map((m) => m.publicIp);

async function refusal(p: Promise<unknown>): Promise<FleetError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FleetError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("a duplicate machine id", () => {
  it("is refused while the first machine holds it, without disturbing the first", async () => {
    const id = machineId(1);
    const first = await register(id, "10.0.0.1", "instance-a");
    const err = await refusal(register(id, "10.0.0.2", "instance-b"));
    expect(err.kind).toBe("already-exists");
    expect(err.message).toBe(
      `machine id ${id} is already registered by another machine (10.0.0.1) (this one: 10.0.0.2): two machines share one /etc/machine-id; this registration is refused until that machine's lease lapses`,
    );
    // The first machine's lease, record and heartbeats are untouched, however often the second asks.
    for (let i = 0; i < 3; i++) await refusal(register(id, "10.0.0.2", "instance-b"));
    expect(await alive(id, first.leaseId)).toBe(true);
    expect(await listed(id)).toEqual(["10.0.0.1"]);
  });

  it("the same agent registering again (a restart) replaces its own registration at once", async () => {
    const id = machineId(2);
    const before = await register(id, "10.0.0.3", "instance-a");
    const after = await register(id, "10.0.0.3", "instance-a");
    expect(after.leaseId).not.toBe(before.leaseId);
    expect(await alive(id, after.leaseId)).toBe(true);
    // The lease it replaced is revoked (with the unit states under it).
    expect(await alive(id, before.leaseId)).toBe(false);
  });

  it("an agent that sends no instance (an older one) replaces, as before", async () => {
    const id = machineId(3);
    await register(id, "10.0.0.4", "instance-a");
    const legacy = await register(id, "10.0.0.4", undefined);
    expect(await alive(id, legacy.leaseId)).toBe(true);
  });

  it("the second machine registers once the first's lease has lapsed", async () => {
    const id = machineId(4);
    await register(id, "10.0.0.5", "instance-a", 1);
    expect((await refusal(register(id, "10.0.0.6", "instance-b"))).kind).toBe("already-exists");
    await waitFor(
      "the first machine's lease to lapse and the second to register",
      async () => {
        const second = await register(id, "10.0.0.6", "instance-b").catch(() => undefined);
        return second !== undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250 },
    );
    expect(await listed(id)).toEqual(["10.0.0.6"]);
  });
});

describe("UnregisterMachine: a machine leaving", () => {
  it("is gone from the machine list at once, with its lease; another machine may then take the id", async () => {
    const id = machineId(5);
    const reg = await register(id, "10.0.0.7", "instance-a");
    const t0 = Date.now();
    const res = await unary(c.unregisterMachine.bind(c), { machineId: id, leaseId: reg.leaseId });
    expect(res.unregistered).toBe(true);
    expect(await listed(id)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await alive(id, reg.leaseId)).toBe(false);
    // Sent again (an answer that was lost): still unregistered.
    expect((await unary(c.unregisterMachine.bind(c), { machineId: id, leaseId: reg.leaseId })).unregistered).toBe(true);
    const next = await register(id, "10.0.0.8", "instance-b");
    expect(await alive(id, next.leaseId)).toBe(true);
  });

  it("never removes another agent's registration of the same id", async () => {
    const id = machineId(6);
    const holder = await register(id, "10.0.0.9", "instance-a");
    const stranger = await unary(c.unregisterMachine.bind(c), { machineId: id, leaseId: "12345" });
    expect(stranger.unregistered).toBe(false);
    expect(await listed(id)).toEqual(["10.0.0.9"]);
    expect(await alive(id, holder.leaseId)).toBe(true);
  });
});

import { FleetError } from "@fleet/domain";
import { createLogger } from "@fleet/wire";
import { describe, expect, it } from "vitest";
import { put } from "./etcd-ops.js";
import { FakeStore } from "./fake-store.js";
import { SWEEP_MS, STALL_MS } from "./heartbeat-watch.js";
import { Registry } from "./registry.js";
import { keys, M1, M2, machine } from "./registry-fixture.js";

function setup(healthy = () => true) {
  let now = 0;
  const store = new FakeStore(keys);
  const registry = new Registry(store, keys, createLogger("heartbeat-watch-test", "silent"), { gatewayId: "gw-a", healthy, now: () => now });
  const watch = registry.machines.heartbeats;
  /** Moves the clock on in sweep steps, sweeping at each, as the gateway's timer does. */
  const advance = async (ms: number) => {
    for (let left = ms; left > 0; left -= SWEEP_MS) {
      now += Math.min(SWEEP_MS, left);
      await watch.sweep();
    }
  };
  /** A second gateway on the same store and clock. */
  const other = () => new Registry(store, keys, createLogger("heartbeat-watch-test", "silent"), { gatewayId: "gw-b", now: () => now });
  return { store, registry, watch, other, advance, jump: (ms: number) => (now += ms) };
}

describe("the gateway's heartbeat watch", () => {
  it("revokes the lease of a machine silent for agent_ttl, and not before", async () => {
    const { store, registry, advance } = setup();
    const { leaseId } = await registry.machines.register(machine(M1), 5);
    // Granted for twice agent_ttl: etcd's lapse is only the backstop.
    expect((await store.leaseTimeToLive(leaseId))?.grantedSeconds).toBe(10);
    await advance(4_750);
    expect(store.cache.machines.has(M1)).toBe(true);
    await advance(500);
    expect(store.cache.machines.has(M1)).toBe(false);
    expect(store.hasLease(leaseId)).toBe(false);
  });

  it("keeps a machine that heart-beats", async () => {
    const { store, registry, advance } = setup();
    const { leaseId } = await registry.machines.register(machine(M1), 5);
    for (let i = 0; i < 10; i++) {
      await advance(1_500);
      expect(await registry.machines.heartbeat(M1, leaseId)).toBe(true);
    }
    await advance(4_500);
    expect(store.cache.machines.has(M1)).toBe(true);
  });

  it("leaves a machine that heart-beats through another gateway now (its claim) alone", async () => {
    const { store, registry, watch, advance } = setup();
    const { leaseId } = await registry.machines.register(machine(M1), 5);
    await store.txn({ success: [put(keys.heartbeatClaim(M1), "gw-b", leaseId)] }, "txn-idempotent");
    await advance(6_000);
    expect(store.cache.machines.has(M1)).toBe(true);
    expect(watch.deadlines.get(leaseId)).toBeUndefined();
  });

  it("claims a machine registered elsewhere on its first heartbeat, and after a gap", async () => {
    const { store, registry, watch, other, advance } = setup();
    const b = other();
    const { leaseId } = await b.machines.register(machine(M2), 5);
    expect(await registry.machines.heartbeat(M2, leaseId)).toBe(true);
    expect(store.value(keys.heartbeatClaim(M2))).toBe("gw-a");
    // The agent moves back to gw-b: gw-a's deadline passes, and it leaves the machine alone.
    await advance(3_000);
    expect(await b.machines.heartbeat(M2, leaseId)).toBe(true);
    expect(store.value(keys.heartbeatClaim(M2))).toBe("gw-b");
    await advance(3_000);
    expect(store.cache.machines.has(M2)).toBe(true);
    expect(watch.deadlines.size).toBe(0);
    // And comes to gw-a again.
    expect(await registry.machines.heartbeat(M2, leaseId)).toBe(true);
    expect(store.value(keys.heartbeatClaim(M2))).toBe("gw-a");
    expect(watch.deadlines.size).toBe(1);
  });

  it("declares nothing while etcd is not followed, nor after the gateway stalled", async () => {
    let healthy = false;
    const { store, registry, advance, jump } = setup(() => healthy);
    await registry.machines.register(machine(M1), 5);
    await advance(6_000);
    expect(store.cache.machines.has(M1)).toBe(true);
    healthy = true;
    registry.machines.heartbeats.regainedEtcd();
    await advance(4_000);
    expect(store.cache.machines.has(M1)).toBe(true);
    // A stall longer than STALL_MS: heartbeats queued meanwhile come after it.
    jump(STALL_MS + 4_000);
    await advance(SWEEP_MS);
    expect(store.cache.machines.has(M1)).toBe(true);
    await advance(5_000);
    expect(store.cache.machines.has(M1)).toBe(false);
  });
});

describe("a heartbeat whose renewal cannot reach etcd", () => {
  it("fails (the agent retries) instead of saying the machine is gone, and claims again next time", async () => {
    const { store, registry, other, advance } = setup();
    const { leaseId } = await other().machines.register(machine(M1), 5);
    await advance(1_000);
    const keepAlive = store.keepAlive.bind(store);
    store.keepAlive = async () => {
      throw new FleetError("unavailable", "etcd is unavailable");
    };
    await expect(registry.machines.heartbeat(M1, leaseId)).rejects.toMatchObject({ kind: "unavailable" });
    // The claim its registration wrote stands: gw-a's was not made.
    expect(store.value(keys.heartbeatClaim(M1))).toBe("gw-b");
    store.keepAlive = keepAlive;
    expect(await registry.machines.heartbeat(M1, leaseId)).toBe(true);
    expect(store.value(keys.heartbeatClaim(M1))).toBe("gw-a");
  });
});

describe("the leases the engine asks for", () => {
  it("come from when the gateway last heard machines heart-beating through it, from etcd for others", async () => {
    const { store, registry, other, advance } = setup();
    await registry.machines.register(machine(M1), 5);
    await other().machines.register(machine(M2), 5);
    await advance(1_000);
    let asked = 0;
    const ttl = store.leaseTimeToLive.bind(store);
    store.leaseTimeToLive = async (id) => {
      asked++;
      return ttl(id);
    };
    const leases = await registry.machines.leases([]);
    expect(leases).toEqual(
      expect.arrayContaining([
        // Heard at registration, 1 s ago: 4 s of agent_ttl left before it would be silent.
        { machineId: M1, remainingMs: 4_000, grantedMs: 5_000, heard: true },
        { machineId: M2, remainingMs: 10_000, grantedMs: 10_000, heard: false },
      ]),
    );
    expect(asked).toBe(1);
  });
});

describe("heartbeats over a stream", () => {
  it("after a registration here, claim the machine with the registration's write: its first stream message costs etcd nothing", async () => {
    const { store, registry, advance } = setup();
    const { leaseId } = await registry.machines.register(machine(M1), 5);
    expect(store.value(keys.heartbeatClaim(M1))).toBe("gw-a");
    expect((await store.get(keys.heartbeatClaim(M1)))?.lease).toBe(leaseId);
    let etcdRequests = 0;
    const [keepAlive, txn] = [store.keepAlive.bind(store), store.txn.bind(store)];
    store.keepAlive = async (id, renewBelow) => {
      // A renewal left to the lease's remaining time (a fresh lease's is 2 × agent_ttl) asks etcd nothing.
      if (renewBelow === undefined) etcdRequests++;
      return keepAlive(id, renewBelow);
    };
    store.txn = async (...args) => {
      etcdRequests++;
      return txn(...args);
    };
    await advance(1_500);
    expect(await registry.machines.heartbeat(M1, leaseId, "stream-first")).toBe(true);
    expect(etcdRequests).toBe(0);
    // A stream opened later (the agent reconnected) claims again, as one to another gateway would.
    await advance(1_500);
    expect(await registry.machines.heartbeat(M1, leaseId, "stream-first")).toBe(true);
    expect(etcdRequests).toBe(2);
  });


  it("claim on the first message of a stream, not after a gap on it (this gateway was slow)", async () => {
    const { store, registry, other, advance } = setup();
    const { leaseId } = await other().machines.register(machine(M1), 5);
    expect(await registry.machines.heartbeat(M1, leaseId, "stream-first")).toBe(true);
    expect(store.value(keys.heartbeatClaim(M1))).toBe("gw-a");
    await store.txn({ success: [put(keys.heartbeatClaim(M1), "gw-b", leaseId)] }, "txn-idempotent");
    await advance(3_000);
    expect(await registry.machines.heartbeat(M1, leaseId, "stream")).toBe(true);
    expect(store.value(keys.heartbeatClaim(M1))).toBe("gw-b");
    expect(await registry.machines.heartbeat(M1, leaseId, "stream-first")).toBe(true);
    expect(store.value(keys.heartbeatClaim(M1))).toBe("gw-a");
  });
});

describe("a lagging gateway", () => {
  it("does not count its event loop's lag (heartbeats may wait unread that long) towards anyone's silence, and no more", async () => {
    const { store, registry, watch, advance, jump } = setup();
    await registry.machines.register(machine(M1), 5);
    await advance(2_000);
    /** Sweeps each `lag` ms later than planned, as on a busy gateway. */
    const lagging = async (steps: number, lag: number) => {
      for (let i = 0; i < steps; i++) {
        jump(SWEEP_MS + lag);
        await watch.sweep();
      }
    };
    // 3 s of agent_ttl left; each step of 450 ms counts 250 ms: 12 steps use them up.
    await lagging(11, 200);
    expect(store.cache.machines.has(M1)).toBe(true);
    await lagging(2, 200);
    expect(store.cache.machines.has(M1)).toBe(false);
  });
});

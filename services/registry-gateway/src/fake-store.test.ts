import { describe, expect, it } from "vitest";
import { created, exists, leased, modified, put, range, valueIs } from "./etcd-ops.js";
import { FakeStore } from "./fake-store.js";
import { Keys } from "./keys.js";

const K = "/fleet/unit/a.service";

describe("FakeStore: etcd's transaction rules in memory", () => {
  it("compares create and mod revisions, values and leases as etcd does; one revision per write", async () => {
    const store = new FakeStore(new Keys("/fleet/"));
    const first = await store.txn({ compare: [created(K, 0)], success: [put(K, "v1")] }, "txn-once");
    expect(first.succeeded).toBe(true);
    expect((await store.txn({ compare: [created(K, 0)], success: [put(K, "v2")], failure: [range(K)] }, "txn-once")).response.responses[0]?.response_range?.kvs[0]?.value.toString()).toBe("v1");
    expect((await store.txn({ compare: [exists(K), modified(K, first.revision), valueIs(K, "v1")], success: [put(K, "v2")] }, "txn-once")).succeeded).toBe(true);
    // A value compare on a missing key fails, whatever the value.
    expect((await store.txn({ compare: [valueIs("/fleet/none", "")], success: [] }, "txn-once")).succeeded).toBe(false);
    // A read-only transaction leaves the revision alone.
    expect(store.cache.revision).toBe(first.revision + 1);
  });

  it("takes a lease's keys with it, and the cache follows every write", async () => {
    const store = new FakeStore(new Keys("/fleet/"));
    const lease = await store.grantLease(10);
    const key = "/fleet/machine/0123456789abcdef0123456789abcdef";
    await store.txn({ compare: [], success: [put(key, { publicIp: "10.0.0.1", metadata: {} }, lease)] }, "txn-once");
    expect(store.cache.machines.size).toBe(1);
    expect((await store.txn({ compare: [leased(key, lease)], success: [] }, "txn-once")).succeeded).toBe(true);
    await store.revokeLease(lease);
    expect(store.cache.machines.size).toBe(0);
    expect(await store.keepAlive(lease)).toBe(false);
    await expect(store.txn({ compare: [], success: [put(key, "x", lease)] }, "txn-once")).rejects.toThrow("requested lease not found");
  });
});

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { currentRequestId, withRequestId } from "@fleet/wire";
import type { UnitState } from "@fleet/domain";
import { groupWrites } from "./fenced-write-batcher.js";
import { fakeRegistry, keys, machine } from "./registry-fixture.js";

const M = (i: number) => i.toString(16).padStart(32, "0");
const state = (name: string, machineId: string, activeState = "active"): UnitState => ({
  name,
  machineId,
  hash: "h",
  loadState: "loaded",
  activeState,
  subState: "running",
  currentState: "launched",
});

describe("groupWrites", () => {
  const w = (id: string, keys: string[], size = 1) => ({ id, keys, size });
  it.each([
    ["disjoint writes share one group", [w("a", ["1"]), w("b", ["2"]), w("c", ["3"])], 100, [["a", "b", "c"]], []],
    ["a group holds at most maxOps", [w("a", ["1"], 60), w("b", ["2"], 30), w("c", ["3"], 20)], 100, [["a", "b"], ["c"]], []],
    ["a write on a key taken waits, and so does every later one on its keys", [w("a", ["1"]), w("b", ["1", "2"]), w("c", ["2"]), w("d", ["3"])], 100, [["a", "d"]], ["b", "c"]],
    ["a write larger than maxOps is a group of its own", [w("a", ["1"]), w("b", ["2"], 250), w("c", ["3"])], 100, [["a"], ["b"], ["c"]], []],
    ["nothing queued", [], 100, [], []],
  ])("%s", (_why, queue, maxOps, groups, later) => {
    const out = groupWrites(queue, maxOps);
    expect(out.groups.map((g) => g.map((x) => x.id))).toEqual(groups);
    expect(out.later.map((x) => x.id)).toEqual(later);
  });
});

describe("unit state reports of many machines", () => {
  it("that arrive together are written in one transaction, each answered with its revision", async () => {
    const { store, registry } = fakeRegistry();
    const leases = [];
    for (let i = 1; i <= 30; i++) leases.push((await registry.machines.register(machine(M(i)), 30)).leaseId);
    const sent = store.txns.length;
    const revisions = await Promise.all(leases.map((lease, i) => registry.states.report(M(i + 1), lease, [state("a.service", M(i + 1)), state("b.service", M(i + 1))], [])));
    expect(store.txns.length - sent).toBe(1);
    expect(new Set(revisions).size).toBe(1);
    expect(registry.states.list("", ["a.service"])).toHaveLength(30);
  });

  it("fill transactions of at most 100 writes", async () => {
    const { store, registry } = fakeRegistry();
    const leases = [];
    for (let i = 1; i <= 120; i++) leases.push((await registry.machines.register(machine(M(i)), 30)).leaseId);
    const sent = store.txns.length;
    await Promise.all(leases.map((lease, i) => registry.states.report(M(i + 1), lease, [state("a.service", M(i + 1))], [])));
    expect(store.txns.slice(sent).map((t) => t.req.success?.length)).toEqual([100, 20]);
    expect(store.txns.slice(sent).every((t) => t.req.compare?.length === t.req.success?.length && t.succeeded)).toBe(true);
  });

  it("fail only the report of a machine not registered under its lease; the others are written", async () => {
    const { store, registry } = fakeRegistry();
    const l1 = (await registry.machines.register(machine(M(1)), 30)).leaseId;
    const l2 = (await registry.machines.register(machine(M(2)), 30)).leaseId;
    const l3 = (await registry.machines.register(machine(M(3)), 30)).leaseId;
    store.expire(l2);
    const results = await Promise.allSettled([
      registry.states.report(M(1), l1, [state("a.service", M(1))], []),
      registry.states.report(M(2), l2, [state("a.service", M(2))], []),
      registry.states.report(M(3), l3, [state("a.service", M(3))], []),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ kind: "failed-precondition" });
    expect(registry.states.list("", ["a.service"]).map((s) => s.machineId)).toEqual([M(1), M(3)]);
  });

  it("of one machine are applied in the order they were sent, never in one transaction", async () => {
    const { store, registry } = fakeRegistry();
    const lease = (await registry.machines.register(machine(M(1)), 30)).leaseId;
    const sent = store.txns.length;
    await Promise.all([
      registry.states.report(M(1), lease, [state("a.service", M(1), "activating")], []),
      registry.states.report(M(1), lease, [state("a.service", M(1), "active")], []),
      registry.states.report(M(1), lease, [], ["a.service"]),
      registry.states.report(M(1), lease, [state("a.service", M(1), "deactivating")], []),
    ]);
    expect(store.txns.length - sent).toBe(4);
    expect(registry.states.list(M(1), []).map((s) => s.activeState)).toEqual(["deactivating"]);
  });

  it("fail together when etcd fails the shared transaction, and nothing is written", async () => {
    const { store, registry } = fakeRegistry();
    const l1 = (await registry.machines.register(machine(M(1)), 30)).leaseId;
    const l2 = (await registry.machines.register(machine(M(2)), 30)).leaseId;
    const sent = store.txns.length;
    store.beforeTxn = () => {
      throw new Error("etcd unavailable");
    };
    const results = await Promise.allSettled([registry.states.report(M(1), l1, [state("a.service", M(1))], []), registry.states.report(M(2), l2, [state("a.service", M(2))], [])]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(store.txns.length).toBe(sent);
    expect(store.value(keys.state(M(1), "a.service"))).toBeUndefined();
  });

  it("are written in their request's scope when alone, and a shared transaction in none", async () => {
    const { store, registry } = fakeRegistry();
    const l1 = (await registry.machines.register(machine(M(1)), 30)).leaseId;
    const l2 = (await registry.machines.register(machine(M(2)), 30)).leaseId;
    const [r1, r2] = [randomUUID(), randomUUID()];
    const seen: Array<string | undefined> = [];
    store.beforeTxn = () => {
      seen.push(currentRequestId());
    };
    await withRequestId(r1, () => registry.states.report(M(1), l1, [state("a.service", M(1))], []));
    await Promise.all([
      withRequestId(r1, () => registry.states.report(M(1), l1, [state("b.service", M(1))], [])),
      withRequestId(r2, () => registry.states.report(M(2), l2, [state("b.service", M(2))], [])),
    ]);
    expect(seen).toEqual([r1, undefined]);
  });

  it("of one machine keep their order when one of them is larger than a transaction", async () => {
    const { store, registry } = fakeRegistry();
    const lease = (await registry.machines.register(machine(M(1)), 30)).leaseId;
    const sent = store.txns.length;
    const many = Array.from({ length: 150 }, (_, i) => state(`u${i}.service`, M(1), "active"));
    await Promise.all([
      registry.states.report(M(1), lease, [state("u0.service", M(1), "activating")], []),
      registry.states.report(M(1), lease, many, []),
      registry.states.report(M(1), lease, [state("u0.service", M(1), "deactivating")], []),
    ]);
    expect(store.txns.slice(sent).map((t) => t.req.success?.length)).toEqual([1, 100, 50, 1]);
    expect(registry.states.list(M(1), ["u0.service", "u149.service"]).map((s) => `${s.name} ${s.activeState}`)).toEqual(["u0.service deactivating", "u149.service active"]);
  });
});

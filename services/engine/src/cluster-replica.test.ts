import { describe, expect, it } from "vitest";
import { decideSchedule, EMPTY_PLAN, planChanges, type ClusterSnapshot } from "@fleet/domain";
import { FakeClock } from "@fleet/domain/fixtures";
import { createLogger } from "@fleet/wire";
import { ClusterReplica } from "./cluster-replica.js";
import { FakeClusterSource, hexMachine, makeUnit } from "./fake-gateway.js";

const log = createLogger("engine-test", "silent");
const LIVENESS = { ttlMs: 5000, unhealthyThreshold: 0.55, atMostOnceMarginMs: 1000 };

const m1 = hexMachine(1);
const m2 = hexMachine(2);

describe("ClusterReplica", () => {
  it("decides from the snapshot and the deltas after it, as decideSchedule would", () => {
    const source = new FakeClusterSource();
    const changes: string[] = [];
    const replica = new ClusterReplica(source, log, { liveness: LIVENESS, onChange: (what) => changes.push(what) });
    replica.start();
    expect(replica.synced).toBe(false);
    expect(replica.decide()).toBeUndefined();

    const snapshot: ClusterSnapshot = { units: [makeUnit("a.service"), makeUnit("b.service")], placements: [], machines: [m1, m2] };
    source.snapshot(10, snapshot);
    expect(replica.synced).toBe(true);
    expect(replica.decide()?.plan).toEqual(decideSchedule(snapshot));

    source.last.onEvent({ revision: 11, snapshot: false, delta: { units: [makeUnit("c.service")] } });
    const after: ClusterSnapshot = { ...snapshot, units: [...snapshot.units, makeUnit("c.service")] };
    expect(replica.decide()?.plan).toEqual(decideSchedule(after));
    expect(replica.revision).toBe(11);
    expect(changes).toEqual(["cluster snapshot", "cluster change"]);

    // A revision-only message: the revision advances, no round is asked for.
    source.last.onEvent({ revision: 12, snapshot: false, delta: {} });
    expect(replica.revision).toBe(12);
    expect(changes).toEqual(["cluster snapshot", "cluster change"]);
  });

  it("does not write its own placements twice while the stream has not echoed them", () => {
    const source = new FakeClusterSource();
    const replica = new ClusterReplica(source, log, { liveness: LIVENESS, onChange: () => undefined });
    replica.start();
    source.snapshot(1, { units: [makeUnit("a.service")], placements: [], machines: [m1] });
    const first = planChanges(replica.decide()?.plan ?? EMPTY_PLAN);
    expect(first).toHaveLength(1);
    replica.wrote(first);
    expect(planChanges(replica.decide()?.plan ?? EMPTY_PLAN)).toEqual([]);
  });

  it("remembers which request last wrote each unit, as the stream named it, and forgets removed units", () => {
    const source = new FakeClusterSource();
    const woken: string[][] = [];
    const replica = new ClusterReplica(source, log, { liveness: LIVENESS, onChange: (_what, ids) => woken.push([...ids]) });
    replica.start();
    source.snapshot(1, { units: [makeUnit("a.service")], placements: [], machines: [m1] });
    source.last.onEvent({ revision: 2, snapshot: false, delta: { units: [makeUnit("b.service"), makeUnit("c.service")] }, requestIds: ["req-1"] });
    source.last.onEvent({ revision: 3, snapshot: false, delta: { units: [makeUnit("c.service")] }, requestIds: ["req-2"] });
    source.last.onEvent({ revision: 4, snapshot: false, delta: { removedUnits: ["b.service"] } });
    expect(["a.service", "b.service", "c.service"].map((n) => replica.requestOf(n))).toEqual([undefined, undefined, "req-2"]);
    expect(woken).toEqual([[], ["req-1"], ["req-2"], []]);
  });

  it("re-syncs from a fresh snapshot after the stream fails, backing off", () => {
    const clock = new FakeClock();
    const source = new FakeClusterSource();
    const replica = new ClusterReplica(source, log, { liveness: LIVENESS, onChange: () => undefined, clock, random: () => 0.5, minBackoffMs: 100, maxBackoffMs: 400 });
    replica.start();
    source.snapshot(5, { units: [makeUnit("a.service")], placements: [], machines: [m1] });
    source.last.onEnd(new Error("gateway went away"));
    expect(replica.synced).toBe(false);
    expect(source.streams).toHaveLength(1);
    clock.advance(99);
    expect(source.streams).toHaveLength(1);
    clock.advance(1);
    expect(source.streams).toHaveLength(2);
    expect(source.last.minRevision).toBe(5);
    source.last.onEnd(new Error("still down"));
    clock.advance(199);
    expect(source.streams).toHaveLength(2);
    clock.advance(1);
    expect(source.streams).toHaveLength(3);
    // The new stream's snapshot replaces the replica (b appeared, a went while we were away).
    source.snapshot(9, { units: [makeUnit("b.service")], placements: [{ unitName: "a.service", machineId: m1.id, reason: "" }], machines: [m1] });
    expect(planChanges(replica.decide()?.plan ?? EMPTY_PLAN)).toEqual([
      { unitName: "a.service", machineId: "", reason: "" },
      { unitName: "b.service", machineId: m1.id, reason: "least-loaded eligible machine" },
    ]);
    replica.stop();
    expect(source.last.cancelled).toBe(true);
  });

  it("waits for a revision the stream has not brought yet", async () => {
    const clock = new FakeClock();
    const source = new FakeClusterSource();
    const replica = new ClusterReplica(source, log, { liveness: LIVENESS, onChange: () => undefined, clock });
    replica.start();
    expect(await replica.waitFor(1, 1000)).toBe(false);
    source.snapshot(3, { units: [], placements: [], machines: [] });
    expect(await replica.waitFor(3, 1000)).toBe(true);
    const pending = replica.waitFor(4, 1000);
    source.last.onEvent({ revision: 4, snapshot: false, delta: { machines: [m1] } });
    expect(await pending).toBe(true);
    const late = replica.waitFor(8, 1000);
    clock.advance(1000);
    expect(await late).toBe(false);
  });
});


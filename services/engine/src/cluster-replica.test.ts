import { describe, expect, it } from "vitest";
import { decideSchedule, type Clock, type ClusterSnapshot, type Machine, type Placement, type Unit } from "@fleet/domain";
import { createLogger } from "@fleet/wire";
import { ClusterReplica, type ClusterEvent, type ClusterSource } from "./cluster-replica.js";
import { Engine, type SchedulePlanner } from "./engine.js";
import { Leadership, type LeadershipApi, type Term } from "./leadership.js";

const log = createLogger("engine-test", "silent");

function makeUnit(name: string): Unit {
  return { name, options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }], hash: `hash-of-${name}`, desiredState: "launched" };
}

function hexMachine(n: number): Machine {
  return { id: n.toString(16).padStart(32, "0"), publicIp: `10.0.0.${n}`, metadata: {} };
}

function applyChanges(s: ClusterSnapshot, changes: readonly Placement[]): ClusterSnapshot {
  const placements = new Map(s.placements.map((p) => [p.unitName, p]));
  for (const c of changes) {
    if (c.machineId === "" && c.reason === "") placements.delete(c.unitName);
    else placements.set(c.unitName, c);
  }
  return { ...s, placements: [...placements.values()] };
}

class ManualClock implements Clock {
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private now = 0;
  private next = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ at: this.now + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const t of this.timers.filter((t) => t.at <= this.now)) {
      this.clearTimeout(t.id);
      t.fn();
    }
  }
}

/** A WatchCluster stand-in: the test pushes events and ends streams. */
class FakeClusterSource implements ClusterSource {
  streams: Array<{ minRevision: number; onEvent: (e: ClusterEvent) => void; onEnd: (err: Error | undefined) => void; cancelled: boolean }> = [];

  watch(minRevision: number, onEvent: (e: ClusterEvent) => void, onEnd: (err: Error | undefined) => void): () => void {
    const stream = { minRevision, onEvent, onEnd, cancelled: false };
    this.streams.push(stream);
    return () => {
      stream.cancelled = true;
      onEnd(undefined);
    };
  }

  get last(): FakeClusterSource["streams"][number] {
    return this.streams[this.streams.length - 1] as FakeClusterSource["streams"][number];
  }

  snapshot(revision: number, s: ClusterSnapshot): void {
    this.last.onEvent({ revision, snapshot: true, delta: { units: s.units, placements: s.placements, machines: s.machines } });
  }
}

const m1 = hexMachine(1);
const m2 = hexMachine(2);

describe("ClusterReplica", () => {
  it("decides from the snapshot and the deltas after it, as decideSchedule would", () => {
    const source = new FakeClusterSource();
    const changes: string[] = [];
    const replica = new ClusterReplica(source, log, { onChange: (what) => changes.push(what) });
    replica.start();
    expect(replica.synced).toBe(false);
    expect(replica.decide()).toBeUndefined();

    const snapshot: ClusterSnapshot = { units: [makeUnit("a.service"), makeUnit("b.service")], placements: [], machines: [m1, m2] };
    source.snapshot(10, snapshot);
    expect(replica.synced).toBe(true);
    expect(replica.decide()?.changes).toEqual(decideSchedule(snapshot));

    source.last.onEvent({ revision: 11, snapshot: false, delta: { units: [makeUnit("c.service")] } });
    const after: ClusterSnapshot = { ...snapshot, units: [...snapshot.units, makeUnit("c.service")] };
    expect(replica.decide()?.changes).toEqual(decideSchedule(after));
    expect(replica.revision).toBe(11);
    expect(changes).toEqual(["cluster snapshot", "cluster change"]);
  });

  it("does not write its own placements twice while the stream has not echoed them", () => {
    const source = new FakeClusterSource();
    const replica = new ClusterReplica(source, log, { onChange: () => undefined });
    replica.start();
    source.snapshot(1, { units: [makeUnit("a.service")], placements: [], machines: [m1] });
    const first = replica.decide()?.changes ?? [];
    expect(first).toHaveLength(1);
    replica.wrote(first);
    expect(replica.decide()?.changes).toEqual([]);
  });

  it("re-syncs from a fresh snapshot after the stream fails, backing off", () => {
    const clock = new ManualClock();
    const source = new FakeClusterSource();
    const replica = new ClusterReplica(source, log, { onChange: () => undefined, clock, random: () => 0.5, minBackoffMs: 100, maxBackoffMs: 400 });
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
    expect(replica.decide()?.changes).toEqual([
      { unitName: "a.service", machineId: "", reason: "" },
      { unitName: "b.service", machineId: m1.id, reason: "least-loaded eligible machine" },
    ]);
    replica.stop();
    expect(source.last.cancelled).toBe(true);
  });

  it("waits for a revision the stream has not brought yet", async () => {
    const clock = new ManualClock();
    const source = new FakeClusterSource();
    const replica = new ClusterReplica(source, log, { onChange: () => undefined, clock });
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

class RecordingPlanner implements SchedulePlanner, LeadershipApi {
  minRevision = 0;
  applied: Placement[][] = [];
  snapshots = 0;
  constructor(public cluster: ClusterSnapshot) {}
  async snapshot(): Promise<ClusterSnapshot> {
    this.snapshots++;
    return this.cluster;
  }
  async apply(_candidate: string, _term: Term, placements: readonly Placement[]): Promise<number> {
    this.applied.push([...placements]);
    this.cluster = applyChanges(this.cluster, placements);
    return ++this.minRevision;
  }
  async acquire(candidateId: string): Promise<{ elected: boolean; leaderId: string; term?: Term }> {
    return { elected: true, leaderId: candidateId, term: { leaseId: "1", fence: 1 } };
  }
  async renew(): Promise<boolean> {
    return true;
  }
  async resign(): Promise<void> {}
}

async function leader(api: LeadershipApi): Promise<Leadership> {
  const leadership = new Leadership(api, "e1", 3600, log, () => undefined);
  leadership.start();
  await new Promise((r) => setImmediate(r));
  return leadership;
}

describe("Engine round", () => {
  it("decides from the replica, writes fenced, and falls back to a snapshot while the replica is not synced", async () => {
    const cluster: ClusterSnapshot = { units: [makeUnit("a.service")], placements: [], machines: [m1] };
    const planner = new RecordingPlanner(cluster);
    const source = new FakeClusterSource();
    const replica = new ClusterReplica(source, log, { onChange: () => undefined });
    const leadership = await leader(planner);
    const engine = new Engine(planner, replica, leadership, log);
    replica.start();

    await engine.reconcile("start");
    expect(planner.snapshots).toBe(1);
    expect(planner.applied).toEqual([[{ unitName: "a.service", machineId: m1.id, reason: "least-loaded eligible machine" }]]);

    source.snapshot(planner.minRevision, planner.cluster);
    source.last.onEvent({ revision: planner.minRevision + 1, snapshot: false, delta: { units: [makeUnit("b.service")] } });
    planner.minRevision++;
    planner.cluster = { ...planner.cluster, units: [...planner.cluster.units, makeUnit("b.service")] };
    await engine.reconcile("cluster change");
    expect(planner.snapshots).toBe(1);
    expect(planner.applied[1]).toEqual([{ unitName: "b.service", machineId: m1.id, reason: "least-loaded eligible machine" }]);
    // The stream echoes the write: nothing more to do, and no snapshot needed.
    source.last.onEvent({ revision: planner.minRevision, snapshot: false, delta: { placements: planner.applied[1] } });
    await engine.reconcile("cluster change");
    expect(planner.applied).toHaveLength(2);
    expect(planner.snapshots).toBe(1);
    await leadership.stop();
    replica.stop();
  });
});

import { describe, expect, it } from "vitest";
import { ClusterFeed, foldChanges, type ClusterDelta, type ClusterSubscriber } from "./cluster-feed.js";
import { Keys } from "./keys.js";
import { RegistryCache, type CacheChange, type KeyValueEvent } from "./registry-cache.js";

const keys = new Keys("/fleet/");
const MACHINE = "0123456789abcdef0123456789abcdef";

function put(key: string, value: unknown, revision: number): KeyValueEvent {
  return { type: "put", key, value: JSON.stringify(value), modRevision: revision, createRevision: revision, lease: "0" };
}

function del(key: string, revision: number): KeyValueEvent {
  return { type: "delete", key, value: "", modRevision: revision, createRevision: 0, lease: "0" };
}

const unit = { options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }], hash: "h", desiredState: "launched" };

function applyAll(cache: RegistryCache, events: KeyValueEvent[]): CacheChange[] {
  return events.map((e) => cache.apply(e)).filter((c): c is CacheChange => c !== undefined);
}

/** Records what a subscriber hears. */
function recorder(): ClusterSubscriber & { got: ClusterDelta[]; ended: string[] } {
  const got: ClusterDelta[] = [];
  const ended: string[] = [];
  return { got, ended, send: (d) => got.push(d), end: (reason) => ended.push(reason) };
}

/** A clock whose time moves only when told; timers fire as it passes them. */
function manualClock() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let nextId = 1;
  return {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (id: unknown) => void timers.delete(id as number),
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now) {
          timers.delete(id);
          t.fn();
        }
      }
    },
  };
}

const stateOf = (revision: number) =>
  put(keys.state(MACHINE, "a.service"), { hash: "h", loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" }, revision);

describe("ClusterFeed", () => {
  it("sends the snapshot first, then each batch as one delta", () => {
    const cache = new RegistryCache(keys);
    applyAll(cache, [put(keys.unit("a.service"), unit, 2), put(keys.machine(MACHINE), { publicIp: "10.0.0.1", metadata: { region: "east" } }, 3)]);
    cache.revision = 3;
    const feed = new ClusterFeed(cache);
    const sub = recorder();
    const got = sub.got;
    const unsubscribe = feed.subscribe(sub);
    expect(got[0]).toMatchObject({ revision: 3, snapshot: true, units: [{ name: "a.service" }], machines: [{ id: MACHINE }] });

    const changes = applyAll(cache, [
      put(keys.schedule("a.service"), { machineId: MACHINE, reason: "least-loaded eligible machine" }, 4),
      put(keys.machineMetadata(MACHINE), { set: { disk: "ssd" }, removed: [] }, 4),
      put(keys.state(MACHINE, "a.service"), { hash: "h", loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" }, 4),
    ]);
    feed.publish(changes, 4);
    expect(got[1]).toEqual({
      revision: 4,
      snapshot: false,
      units: [],
      removedUnits: [],
      placements: [{ unitName: "a.service", machineId: MACHINE, reason: "least-loaded eligible machine" }],
      removedPlacements: [],
      machines: [{ id: MACHINE, publicIp: "10.0.0.1", metadata: { region: "east", disk: "ssd" } }],
      removedMachines: [],
    });

    unsubscribe();
    feed.publish(applyAll(cache, [del(keys.unit("a.service"), 5)]), 5);
    expect(got).toHaveLength(2);
  });

  it("folds several events of one key into the last, and skips batches of unit states only", () => {
    const cache = new RegistryCache(keys);
    const changes = applyAll(cache, [put(keys.unit("a.service"), unit, 2), del(keys.unit("a.service"), 2), put(keys.unit("b.service"), unit, 2), del(keys.machine(MACHINE), 2)]);
    expect(foldChanges(changes, 2)).toMatchObject({ units: [{ name: "b.service" }], removedUnits: ["a.service"], removedMachines: [MACHINE] });
    const states = applyAll(cache, [put(keys.state(MACHINE, "b.service"), { hash: "h", currentState: "launched" }, 3)]);
    expect(foldChanges(states, 3)).toBeUndefined();
  });
});

describe("ClusterFeed revision-only messages", () => {
  function setup() {
    const cache = new RegistryCache(keys);
    cache.revision = 10;
    const clock = manualClock();
    const feed = new ClusterFeed(cache, { clock, revisionIntervalMs: 50 });
    const sub = recorder();
    feed.subscribe(sub);
    sub.got.length = 0;
    const batch = (events: KeyValueEvent[], revision: number) => {
      cache.revision = revision;
      feed.publish(applyAll(cache, events), revision);
    };
    return { cache, clock, feed, sub, batch };
  }
  const revisions = (got: ClusterDelta[]) => got.map((d) => d.revision);
  const isEmpty = (d: ClusterDelta | undefined) =>
    d !== undefined && [d.units, d.removedUnits, d.placements, d.removedPlacements, d.machines, d.removedMachines].every((a) => a.length === 0);

  it("sends a batch that changes nothing a replica holds as its revision alone, at once", () => {
    const { sub, batch } = setup();
    batch([stateOf(11)], 11);
    expect(revisions(sub.got)).toEqual([11]);
    expect(sub.got[0]?.snapshot).toBe(false);
    expect(isEmpty(sub.got[0])).toBe(true);
  });

  it("the engine leader's deletion reaches the replica as a revision", () => {
    const { sub, clock, batch } = setup();
    batch([put(keys.leader(), "engine-1", 11)], 11);
    batch([del(keys.leader(), 12)], 12);
    // The second within 50 ms of the first: it waits for the interval, then goes out.
    expect(revisions(sub.got)).toEqual([11]);
    clock.advance(50);
    expect(revisions(sub.got)).toEqual([11, 12]);
  });

  it("sends at most one per interval, always with the newest revision", () => {
    const { sub, clock, batch } = setup();
    batch([stateOf(11)], 11);
    clock.advance(10);
    batch([stateOf(12)], 12);
    clock.advance(10);
    batch([stateOf(13)], 13);
    expect(revisions(sub.got)).toEqual([11]);
    clock.advance(29);
    expect(revisions(sub.got)).toEqual([11]);
    clock.advance(1);
    expect(revisions(sub.got)).toEqual([11, 13]);
    clock.advance(100);
    batch([stateOf(14)], 14);
    expect(revisions(sub.got)).toEqual([11, 13, 14]);
  });

  it("a delta supersedes a waiting revision-only message", () => {
    const { sub, clock, batch } = setup();
    batch([stateOf(11)], 11);
    batch([stateOf(12)], 12);
    batch([put(keys.unit("b.service"), unit, 13)], 13);
    clock.advance(100);
    expect(revisions(sub.got)).toEqual([11, 13]);
    expect(sub.got[1]?.units.map((u) => u.name)).toEqual(["b.service"]);
  });

  it("never sends a revision a subscriber already has", () => {
    const { feed, sub } = setup();
    feed.publish([], 10);
    feed.publish([], 9);
    expect(sub.got).toEqual([]);
  });

  it("endAll ends every subscriber with the reason and sends nothing more", () => {
    const { feed, sub, clock, batch } = setup();
    batch([stateOf(11)], 11);
    batch([stateOf(12)], 12);
    feed.endAll("the gateway lost etcd");
    clock.advance(100);
    batch([put(keys.unit("b.service"), unit, 13)], 13);
    expect(sub.ended).toEqual(["the gateway lost etcd"]);
    expect(revisions(sub.got)).toEqual([11]);
    expect(feed.size).toBe(0);
  });
});

describe("ClusterFeed with states (the api's read replica)", () => {
  const state = (currentState: string, revision: number, name = "a.service") =>
    put(keys.state(MACHINE, name), { hash: "h", loadState: "loaded", activeState: "active", subState: "running", currentState }, revision);

  function setup() {
    const cache = new RegistryCache(keys);
    applyAll(cache, [put(keys.unit("a.service"), unit, 2), state("launched", 3)]);
    cache.revision = 3;
    const clock = manualClock();
    const feed = new ClusterFeed(cache, { clock, revisionIntervalMs: 50, statesIntervalMs: 100 });
    const withStates = { ...recorder(), withStates: true };
    const plain = recorder();
    feed.subscribe(withStates);
    feed.subscribe(plain);
    const batch = (events: KeyValueEvent[], revision: number) => {
      cache.revision = revision;
      feed.publish(applyAll(cache, events), revision);
    };
    return { clock, feed, withStates, plain, batch };
  }
  const current = (d: ClusterDelta | undefined) => d?.states?.map((s) => `${s.name}:${s.currentState}`);

  it("the snapshot holds every state; the engine's holds none", () => {
    const { withStates, plain } = setup();
    expect(withStates.got[0]?.states).toEqual([
      { name: "a.service", machineId: MACHINE, hash: "h", loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" },
    ]);
    expect(plain.got[0]?.states).toBeUndefined();
  });

  it("states alone go out at once, then at most once per interval, coalesced as they then are; the engine hears revisions", () => {
    const { withStates, plain, clock, batch } = setup();
    batch([state("loaded", 4)], 4);
    expect(withStates.got).toHaveLength(2);
    expect(withStates.got[1]).toMatchObject({ revision: 4, snapshot: false, units: [], removedStates: [] });
    expect(current(withStates.got[1])).toEqual(["a.service:loaded"]);
    expect(plain.got.map((d) => [d.revision, d.states])).toEqual([
      [3, undefined],
      [4, undefined],
    ]);

    clock.advance(10);
    batch([state("inactive", 5)], 5);
    batch([state("launched", 6), state("launched", 6, "b.service")], 6);
    batch([del(keys.state(MACHINE, "b.service"), 7)], 7);
    expect(withStates.got).toHaveLength(2);
    clock.advance(90);
    expect(withStates.got).toHaveLength(3);
    expect(withStates.got[2]).toMatchObject({ revision: 7, removedStates: [{ unitName: "b.service", machineId: MACHINE }] });
    expect(current(withStates.got[2])).toEqual(["a.service:launched"]);
    expect(plain.got.at(-1)?.revision).toBe(7);
  });

  it("a delta of units carries every pending state along", () => {
    const { withStates, plain, clock, batch } = setup();
    batch([state("loaded", 4)], 4);
    batch([state("inactive", 5)], 5);
    batch([put(keys.unit("b.service"), unit, 6), state("inactive", 6, "b.service")], 6);
    expect(withStates.got.map((d) => d.revision)).toEqual([3, 4, 6]);
    expect(withStates.got[2]?.units.map((u) => u.name)).toEqual(["b.service"]);
    expect(current(withStates.got[2])).toEqual(["a.service:inactive", "b.service:inactive"]);
    expect(plain.got[2]?.units.map((u) => u.name)).toEqual(["b.service"]);
    expect(plain.got[2]?.states).toBeUndefined();
    clock.advance(1000);
    expect(withStates.got).toHaveLength(3);
  });

  it("a revision reaches the replica only with every state up to it", () => {
    const { withStates, plain, clock, batch } = setup();
    batch([state("loaded", 4)], 4);
    clock.advance(60);
    batch([state("inactive", 5)], 5); // pending until 100 ms after the first
    batch([put(keys.leader(), "engine-1", 6)], 6);
    // The engine heard 5 at once (its interval was over) and will hear 6 once it is over again.
    expect(plain.got.map((d) => d.revision)).toEqual([3, 4, 5]);
    expect(withStates.got.map((d) => d.revision)).toEqual([3, 4]);
    clock.advance(40);
    expect(withStates.got.map((d) => d.revision)).toEqual([3, 4, 6]);
    expect(current(withStates.got[2])).toEqual(["a.service:inactive"]);
    batch([del(keys.leader(), 7)], 7);
    clock.advance(100);
    expect(withStates.got.map((d) => d.revision)).toEqual([3, 4, 6, 7]);
  });

  it("endAll drops pending states", () => {
    const { feed, withStates, clock, batch } = setup();
    batch([state("loaded", 4)], 4);
    batch([state("inactive", 5)], 5);
    feed.endAll("the gateway lost etcd");
    clock.advance(1000);
    expect(withStates.got.map((d) => d.revision)).toEqual([3, 4]);
    expect(withStates.ended).toEqual(["the gateway lost etcd"]);
  });
});

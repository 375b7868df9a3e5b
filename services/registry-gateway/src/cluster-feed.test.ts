import { describe, expect, it } from "vitest";
import { ClusterFeed, foldChanges, type ClusterDelta } from "./cluster-feed.js";
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

describe("ClusterFeed", () => {
  it("sends the snapshot first, then each batch as one delta", () => {
    const cache = new RegistryCache(keys);
    applyAll(cache, [put(keys.unit("a.service"), unit, 2), put(keys.machine(MACHINE), { publicIp: "10.0.0.1", metadata: { region: "east" } }, 3)]);
    cache.revision = 3;
    const feed = new ClusterFeed(cache);
    const got: ClusterDelta[] = [];
    const unsubscribe = feed.subscribe((d) => got.push(d));
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

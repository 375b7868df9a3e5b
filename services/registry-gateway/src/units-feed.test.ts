import { describe, expect, it } from "vitest";
import { Keys } from "./keys.js";
import { RegistryCache, type CacheChange, type KeyValueEvent } from "./registry-cache.js";
import { UnitsFeed, type UnitsUpdate } from "./units-feed.js";

const keys = new Keys("/fleet/");
const MACHINE = "0123456789abcdef0123456789abcdef";
const unit = { options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }], hash: "h", desiredState: "launched" };

function put(key: string, value: unknown, revision: number): KeyValueEvent {
  return { type: "put", key, value: JSON.stringify(value), modRevision: revision, createRevision: revision, lease: "0" };
}
function del(key: string, revision: number): KeyValueEvent {
  return { type: "delete", key, value: "", modRevision: revision, createRevision: 0, lease: "0" };
}
function apply(cache: RegistryCache, events: KeyValueEvent[], revision: number): CacheChange[] {
  const changes = events.map((e) => cache.apply(e)).filter((c): c is CacheChange => c !== undefined);
  cache.revision = revision;
  return changes;
}
const statesOf = (cache: RegistryCache) => (name: string) => [...cache.states.values()].flatMap((m) => (m.get(name) ? [m.get(name)!.value] : []));

describe("UnitsFeed", () => {
  it("sends the named units as they are, then only the ones a batch changed", () => {
    const cache = new RegistryCache(keys);
    apply(cache, [put(keys.unit("a.service"), unit, 2), put(keys.unit("b.service"), unit, 2)], 2);
    const feed = new UnitsFeed(cache, statesOf(cache));
    const got: UnitsUpdate[] = [];
    feed.subscribe(["a.service", "b.service", "new.service"], (u) => got.push(u));
    expect(got[0]).toMatchObject({ revision: 2, units: [{ unit: { name: "a.service" } }, { unit: { name: "b.service" } }], missing: ["new.service"] });

    feed.publish(apply(cache, [put(keys.schedule("a.service"), { machineId: MACHINE, reason: "" }, 3), put(keys.unit("other.service"), unit, 3)], 3));
    feed.publish(
      apply(cache, [put(keys.state(MACHINE, "a.service"), { hash: "h", loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" }, 4)], 4),
    );
    feed.publish(apply(cache, [put(keys.unit("new.service"), unit, 5), del(keys.unit("b.service"), 5)], 5));
    expect(got.slice(1).map((u) => ({ revision: u.revision, units: u.units.map((r) => [r.unit.name, r.placement.machineId, r.states.map((s) => s.currentState).join()]), missing: u.missing }))).toEqual([
      { revision: 3, units: [["a.service", MACHINE, ""]], missing: [] },
      { revision: 4, units: [["a.service", MACHINE, "launched"]], missing: [] },
      { revision: 5, units: [["new.service", "", ""]], missing: ["b.service"] },
    ]);
  });

  it("stops sending after unsubscribe, and says nothing of batches without its units", () => {
    const cache = new RegistryCache(keys);
    const feed = new UnitsFeed(cache, statesOf(cache));
    const got: UnitsUpdate[] = [];
    const unsubscribe = feed.subscribe(["a.service"], (u) => got.push(u));
    feed.publish(apply(cache, [put(keys.unit("z.service"), unit, 2)], 2));
    expect(got).toHaveLength(1);
    unsubscribe();
    feed.publish(apply(cache, [put(keys.unit("a.service"), unit, 3)], 3));
    expect(got).toHaveLength(1);
    expect(feed.size).toBe(0);
  });

  it("with no name follows every unit: all of them first, then any that changes, a new one or a destroyed one included", () => {
    const cache = new RegistryCache(keys);
    apply(cache, [put(keys.unit("a.service"), unit, 2)], 2);
    const feed = new UnitsFeed(cache, statesOf(cache));
    const got: UnitsUpdate[] = [];
    feed.subscribe([], (u) => got.push(u));
    feed.publish(apply(cache, [put(keys.unit("later.service"), unit, 3)], 3));
    feed.publish(apply(cache, [del(keys.unit("a.service"), 4)], 4));
    expect(got.map((u) => ({ units: u.units.map((r) => r.unit.name), missing: u.missing }))).toEqual([
      { units: ["a.service"], missing: [] },
      { units: ["later.service"], missing: [] },
      { units: [], missing: ["a.service"] },
    ]);
  });
});

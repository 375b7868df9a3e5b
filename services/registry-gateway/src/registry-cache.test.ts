import { describe, expect, it } from "vitest";
import { Keys } from "./keys.js";
import { RegistryCache, resyncEvents, type KeyValueEvent } from "./registry-cache.js";

const keys = new Keys("/fleet/");
const M = "0123456789abcdef0123456789abcdef";
const unit = { options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }], hash: "h", desiredState: "launched" };

function put(key: string, value: unknown, revision: number, lease = "0"): KeyValueEvent {
  return { type: "put", key, value: typeof value === "string" ? value : JSON.stringify(value), modRevision: revision, createRevision: revision, lease };
}

describe("resyncEvents: a cache brought to a fresh read after a lost watch", () => {
  it("puts what is new or changed, deletes what is gone, leaves the rest", () => {
    const cache = new RegistryCache(keys);
    for (const e of [
      put(keys.unit("kept.service"), unit, 2),
      put(keys.unit("changed.service"), unit, 3),
      put(keys.unit("gone.service"), unit, 4),
      put(keys.machine(M), { publicIp: "10.0.0.1", metadata: {} }, 5, "77"),
      put(keys.state(M, "kept.service"), { hash: "h", currentState: "launched" }, 6, "77"),
      put(keys.leader(), "engine-1", 7, "88"),
    ]) cache.apply(e);
    cache.revision = 7;

    // While the watch was down: changed.service rewritten, gone.service destroyed, the
    // machine's lease lapsed (its key and state gone), a new unit, a new leader.
    const read = [
      put(keys.unit("kept.service"), unit, 2),
      put(keys.unit("changed.service"), { ...unit, desiredState: "loaded" }, 9),
      put(keys.unit("new.service"), unit, 10),
      put(keys.leader(), "engine-2", 12, "99"),
    ];
    const events = resyncEvents(cache, read, 12);
    expect(events.map((e) => `${e.type} ${e.key}`).sort()).toEqual(
      [
        `put ${keys.unit("changed.service")}`,
        `put ${keys.unit("new.service")}`,
        `put ${keys.leader()}`,
        `delete ${keys.unit("gone.service")}`,
        `delete ${keys.machine(M)}`,
        `delete ${keys.state(M, "kept.service")}`,
      ].sort(),
    );
    for (const e of events) cache.apply(e);
    expect(cache.sortedUnits().map((u) => [u.name, u.desiredState])).toEqual([
      ["changed.service", "loaded"],
      ["kept.service", "launched"],
      ["new.service", "launched"],
    ]);
    expect(cache.machines.size).toBe(0);
    expect(cache.states.size).toBe(0);
    expect(cache.leader?.value).toBe("engine-2");
    expect(resyncEvents(cache, read, 12)).toEqual([]);
  });
});

// The unit watcher over the fake systemd, on a fake clock.
import { describe, expect, it } from "vitest";
import { FakeClock, turn } from "@fleet/domain/fixtures";
import { createLogger } from "@fleet/wire";
import { FakeUnitManager } from "./fake-systemd.js";
import { SLOW_START_MS, UnitWatcher, type Urgency } from "./unit-watcher.js";

function watcher(ours = new Set(["a.service", "b.service"])) {
  const clock = new FakeClock();
  const systemd = new FakeUnitManager({ clock, now: () => clock.now() });
  const changes: Array<[string, Urgency]> = [];
  const w = new UnitWatcher(systemd, { isOurs: (n) => ours.has(n), changed: (n, u) => changes.push([n, u]) }, clock, createLogger("test", "silent"));
  return { w, systemd, clock, changes };
}

describe("UnitWatcher", () => {
  it("keeps the state systemd signals for a watched unit of ours and asks for a batched report; other units' signals are dropped", async () => {
    const { w, systemd, changes } = watcher();
    await w.watch(["a.service", "c.service"]);
    systemd.set("a.service", "active", "running");
    systemd.set("c.service", "active", "running");
    systemd.set("b.service", "active", "running");
    expect(w.status("a.service")).toMatchObject({ activeState: "active", subState: "running" });
    expect(w.activeState("c.service")).toBe("");
    expect(changes).toEqual([["a.service", "batch"]]);
    await w.unwatch(["a.service"]);
    systemd.set("a.service", "failed", "failed");
    expect(w.activeState("a.service")).toBe("active");
  });

  it("watches a unit whose start ended, then reads its state, and asks for a report at once", async () => {
    const { w, systemd, changes } = watcher();
    const end = w.startsBegin(["a.service"]);
    systemd.set("a.service", "active", "running");
    expect(changes).toEqual([]);
    w.started("a.service");
    end();
    await turn();
    await w.settled();
    expect(w.isWatched("a.service")).toBe(true);
    expect(w.status("a.service")).toMatchObject({ activeState: "active" });
    expect(changes).toEqual([["a.service", "now"]]);
  });

  it("a start that takes longer than SLOW_START_MS: the unit is watched and read before it ends, its changes then report as starting", async () => {
    const { w, systemd, clock, changes } = watcher();
    const end = w.startsBegin(["a.service"]);
    systemd.set("a.service", "activating", "start");
    clock.advance(SLOW_START_MS - 1);
    expect(w.isWatched("a.service")).toBe(false);
    clock.advance(1);
    await w.settled();
    expect(w.activeState("a.service")).toBe("activating");
    expect(changes).toEqual([["a.service", "batch"]]);
    systemd.set("a.service", "active", "running");
    expect(changes.at(-1)).toEqual(["a.service", "starting"]);
    w.started("a.service");
    end();
    expect(changes.at(-1)).toEqual(["a.service", "now"]);
  });

  it("a unit systemd refuses to list fails only itself, with the reason", async () => {
    const { w, systemd } = watcher();
    systemd.set("a.service", "active", "running");
    systemd.broken.set("b.service", "Unit b.service has a bad unit file setting.");
    const reasons = new Map<string, string>();
    await w.read(["a.service", "b.service"], reasons);
    expect(w.activeState("a.service")).toBe("active");
    expect(reasons).toEqual(new Map([["b.service", "systemd did not report its state: Unit b.service has a bad unit file setting."]]));
  });
});

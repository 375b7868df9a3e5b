// [X-Fleet] AtMostOnce=true on the agent's side, against the fake systemd (which runs the
// fence's timer on the test's clock): such a unit starts only while the fence is armed, and
// systemd stops it D after the agent's last good renewal, whatever the agent does.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeUnit } from "@fleet/domain/fixtures";
import type { Unit } from "@fleet/domain";
import { FENCE_HOLD_REASON } from "./agent.js";
import { agentHarness, type AgentHarness } from "./agent-harness.js";
import { AT_MOST_ONCE_LINES, FENCE_TIMER } from "./fence-units.js";

// agent_ttl 5 s: R = 1 s, D = 3 s.
const D = 3000;
let h: AgentHarness;
afterEach(() => h.close());

const atMostOnce = (name: string): Unit =>
  makeUnit(name, "launched", [
    { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
    { section: "X-Fleet", name: "AtMostOnce", value: "true" },
  ]);

const starts = (name: string) => h.systemd.calls.filter((c) => c === `start ${name}`).length;
const unavailable = () => new Error("14 UNAVAILABLE: No connection established");

/** Two passes: the first writes the unit and arms the fence (it asks for the second), the second starts it. */
async function startBoth(): Promise<void> {
  h = agentHarness();
  h.registry.units = [atMostOnce("amo.service"), makeUnit("plain.service", "launched")];
  await h.agent.reconcile("start");
  await h.settle();
  expect(h.requested).toEqual(["at-most-once fence armed"]);
  await h.agent.reconcile("at-most-once fence armed");
  await h.settle();
}

describe("an AtMostOnce unit", () => {
  it("starts once the fence is armed; its file on the machine joins the fence, its stored hash does not change, and nothing is rewritten", async () => {
    h = agentHarness();
    h.registry.units = [atMostOnce("amo.service"), makeUnit("plain.service", "launched")];
    await h.agent.reconcile("start");
    await h.settle();
    expect(h.systemd.isActive("plain.service")).toBe(true);
    expect(h.systemd.isActive("amo.service")).toBe(false);
    expect(h.registry.states.get("amo.service")).toMatchObject({ currentState: "loaded", reason: FENCE_HOLD_REASON });

    await h.agent.reconcile("at-most-once fence armed");
    await h.settle();
    expect(h.systemd.isActive("amo.service")).toBe(true);
    expect(h.registry.states.get("amo.service")).toMatchObject({ currentState: "launched", activeState: "active", hash: "hash-of-amo.service" });
    expect(h.registry.states.get("amo.service")?.reason).toBeUndefined();
    expect(readFileSync(join(h.files.dir, "amo.service"), "utf8")).toMatch(new RegExp(`AtMostOnce=true\n${AT_MOST_ONCE_LINES.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
    expect(readFileSync(join(h.files.dir, "plain.service"), "utf8")).not.toContain("fleet-at-most-once.target");

    const calls = h.systemd.calls.length;
    await h.agent.heartbeat();
    await h.agent.reconcile("interval");
    expect(h.systemd.calls.slice(calls)).toEqual([`restart ${FENCE_TIMER}`, "start fleet-at-most-once.target"]);
  });

  it("is stopped by systemd D after the last renewal of a frozen agent, the other units run on; no start until a renewal re-arms the fence", async () => {
    await startBoth();
    // Frozen: no heartbeat, no pass. systemd's timer does not wait for the agent.
    h.advance(D - 1);
    expect(h.systemd.isActive("amo.service")).toBe(true);
    h.advance(1);
    expect(h.systemd.isActive("amo.service")).toBe(false);
    expect(h.systemd.isActive("plain.service")).toBe(true);

    // Thawed, but heartbeats fail: passes run and start nothing fenced.
    h.registry.delay = (call) => {
      if (call === "heartbeat") throw unavailable();
    };
    await h.agent.reconcile("interval");
    await h.settle();
    expect(starts("amo.service")).toBe(1);
    expect(h.registry.states.get("amo.service")).toMatchObject({ activeState: "inactive", currentState: "loaded", reason: FENCE_HOLD_REASON });

    // A renewal that took longer than R renews the lease but does not re-arm the fence.
    h.registry.delay = (call) => {
      if (call === "heartbeat") h.now += 1500;
    };
    await h.agent.heartbeat();
    await h.agent.reconcile("interval");
    await h.settle();
    expect(starts("amo.service")).toBe(1);

    // A prompt renewal re-arms it: the agent asks for a pass, which starts the unit again.
    h.registry.delay = () => {};
    h.requested.length = 0;
    await h.agent.heartbeat();
    expect(h.requested).toEqual(["at-most-once fence armed"]);
    await h.agent.reconcile("at-most-once fence armed");
    await h.settle();
    expect(starts("amo.service")).toBe(2);
    expect(h.systemd.isActive("amo.service")).toBe(true);
    expect(h.registry.states.get("amo.service")).toMatchObject({ activeState: "active", currentState: "launched" });
    expect(h.registry.registrations).toBe(1);
  });

  it("when the fence is lost (its re-arm fails), is left to systemd's fence, which stops it; it starts again only once a re-arm succeeds", async () => {
    await startBoth();
    h.advance(1000);
    // systemd refuses the re-arm: the agent counts the fence lost at once, before its deadline.
    h.systemd.broken.set(FENCE_TIMER, "Access denied");
    await h.agent.heartbeat();
    await h.agent.reconcile("interval");
    await h.settle();
    // Still running: the fence armed before keeps it until its deadline; the agent stops nothing.
    expect(h.systemd.isActive("amo.service")).toBe(true);
    expect(h.systemd.calls.filter((c) => c === "stop amo.service")).toEqual([]);

    h.advance(D - 1000);
    expect(h.systemd.isActive("amo.service")).toBe(false);
    expect(h.systemd.isActive("plain.service")).toBe(true);
    await h.agent.heartbeat();
    await h.agent.reconcile("interval");
    await h.settle();
    expect(starts("amo.service")).toBe(1);
    expect(h.registry.states.get("amo.service")).toMatchObject({ activeState: "inactive", currentState: "loaded", reason: FENCE_HOLD_REASON });

    // systemd takes the re-arm again: the fence is armed after its gap, the agent asks for a pass.
    h.systemd.broken.delete(FENCE_TIMER);
    h.requested.length = 0;
    await h.agent.heartbeat();
    expect(h.requested).toEqual(["at-most-once fence armed"]);
    await h.agent.reconcile("at-most-once fence armed");
    await h.settle();
    expect(starts("amo.service")).toBe(2);
    expect(h.registry.states.get("amo.service")).toMatchObject({ activeState: "active", currentState: "launched" });
    expect(h.registry.registrations).toBe(1);
  });

  it("keeps running while renewals come back in time", async () => {
    await startBoth();
    for (let i = 0; i < 10; i++) {
      h.advance(1600);
      await h.agent.heartbeat();
    }
    expect(h.systemd.isActive("amo.service")).toBe(true);
    expect(starts("amo.service")).toBe(1);
  });

  it("is not started from a schedule read before the fence was armed again (the schedule may predate a move)", async () => {
    await startBoth();
    h.advance(D);
    expect(h.systemd.isActive("amo.service")).toBe(false);
    // The renewal before the read fails; one while the pass reads its schedule re-arms the fence.
    let down = true;
    h.registry.delay = async (call) => {
      if (call === "heartbeat" && down) throw unavailable();
      if (call === "schedule") {
        h.advance(5);
        down = false;
        await h.agent.heartbeat();
      }
    };
    await h.agent.reconcile("interval");
    expect(starts("amo.service")).toBe(1);
    h.registry.delay = () => {};
    await h.agent.reconcile("at-most-once fence armed");
    expect(starts("amo.service")).toBe(2);
  });

  it("is adopted, not stopped, by an agent that restarts while systemd's fence is still armed", async () => {
    await startBoth();
    const calls = h.systemd.calls.length;
    const restarted = h.restart();
    h.advance(500);
    await restarted.reconcile("start");
    await h.settle();
    expect(h.systemd.calls.slice(calls).filter((c) => !c.includes("fleet-"))).toEqual([]);
    expect(h.systemd.isActive("amo.service")).toBe(true);
    expect(h.systemd.calls.slice(calls)).toContain(`restart ${FENCE_TIMER}`);
    // It re-armed the fence at once: the old deadline passes, the unit runs on.
    h.advance(D - 100);
    expect(h.systemd.isActive("amo.service")).toBe(true);
  });
});

describe("a retried heartbeat", () => {
  it("does not re-arm the fence from its own send time: the renewal may be the keep-alive of the timed-out one before it", async () => {
    await startBoth();
    const rearms = () => h.systemd.calls.filter((c) => c === `restart ${FENCE_TIMER}`).length;
    const before = rearms();
    // A heartbeat that times out (its keep-alive may still be pending at the gateway)...
    h.registry.delay = (call) => {
      if (call === "heartbeat") {
        h.now += 1250;
        throw new Error("4 DEADLINE_EXCEEDED");
      }
    };
    await expect(h.agent.heartbeat()).rejects.toThrow("DEADLINE_EXCEEDED");
    // ...then a prompt retry, answered alive: counted from the first one's send, too old to re-arm.
    h.registry.delay = () => {};
    h.advance(200);
    await h.agent.heartbeat();
    expect(rearms()).toBe(before);
    // The next heartbeat, answered in time, re-arms.
    await h.agent.heartbeat();
    expect(rearms()).toBe(before + 1);
  });
});

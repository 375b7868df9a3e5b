// The agent's registration and heartbeats, and what a control-plane outage does to its units
// (nothing), against the fake registry and the fake systemd.
import { afterEach, describe, expect, it } from "vitest";
import { makeUnit } from "@fleet/domain/fixtures";
import { agentHarness, type AgentHarness } from "./agent-harness.js";
import { renewedNoEarlierThan } from "./machine-lease.js";

let h: AgentHarness;
afterEach(() => h.close());

/** A gate the test opens: calls wait at it meanwhile. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

const unavailable = () => Object.assign(new Error("14 UNAVAILABLE: No connection established"), { code: 14 });

describe("registration", () => {
  it("a heartbeat and a pass that both find no lease make one registration between them", async () => {
    h = agentHarness();
    const g = gate();
    h.registry.delay = (call) => (call === "register" ? g.opened : undefined);
    const beat = h.agent.heartbeat();
    const pass = h.agent.reconcile("start");
    const again = h.agent.heartbeat();
    g.open();
    await Promise.all([beat, pass, again]);
    expect(h.registry.registrations).toBe(1);
  });

  it("after the lease lapsed, heartbeats and passes together register once again, not once each", async () => {
    h = agentHarness();
    h.registry.units = [makeUnit("hello.service", "launched")];
    await h.agent.reconcile("start");
    h.registry.expireLease();
    const g = gate();
    h.registry.delay = (call) => (call === "register" ? g.opened : undefined);
    const calls = [h.agent.heartbeat(), h.agent.heartbeat(), h.agent.reconcile("hint"), h.agent.heartbeat()];
    g.open();
    await Promise.all(calls);
    expect(h.registry.registrations).toBe(2);
    await h.settle();
    expect(h.registry.states.get("hello.service")).toMatchObject({ activeState: "active", currentState: "launched" });
  });

  it("a heartbeat that fails (UNAVAILABLE) throws and registers nothing: the lease it renewed may still be alive", async () => {
    h = agentHarness();
    await h.agent.heartbeat();
    h.registry.failure = unavailable();
    await expect(h.agent.heartbeat()).rejects.toThrow("UNAVAILABLE");
    await expect(h.agent.heartbeat()).rejects.toThrow("UNAVAILABLE");
    h.registry.failure = undefined;
    await h.agent.heartbeat();
    expect(h.registry.registrations).toBe(1);
    expect(h.registry.heartbeats).toBe(1);
  });
});

describe("a control-plane outage", () => {
  it("stops nothing: passes fail and change nothing; on return the agent registers anew and reports every unit again", async () => {
    h = agentHarness();
    h.registry.units = [makeUnit("a.service", "launched"), makeUnit("b.service", "launched")];
    await h.agent.reconcile("start");
    await h.settle();
    const calls = h.systemd.calls.length;

    h.registry.failure = unavailable();
    for (let i = 0; i < 5; i++) {
      await expect(h.agent.reconcile("interval")).rejects.toThrow("UNAVAILABLE");
      await expect(h.agent.heartbeat()).rejects.toThrow("UNAVAILABLE");
    }
    expect(h.systemd.calls.slice(calls)).toEqual([]);
    expect(h.systemd.isActive("a.service") && h.systemd.isActive("b.service")).toBe(true);

    // The lease lapsed meanwhile, and the states with it.
    h.registry.expireLease();
    h.registry.failure = undefined;
    await h.agent.heartbeat();
    await h.agent.reconcile("interval");
    await h.settle();
    expect(h.registry.registrations).toBe(2);
    expect(h.systemd.calls.slice(calls)).toEqual([]);
    expect(h.registry.states.get("a.service")).toMatchObject({ activeState: "active", currentState: "launched" });
    expect(h.registry.states.get("b.service")).toMatchObject({ activeState: "active", currentState: "launched" });
  });
});

describe("renewedNoEarlierThan", () => {
  it.each([
    { name: "answered at the first try: from its send", sentAt: 5000, unansweredSince: undefined, want: 5000 },
    { name: "after a heartbeat that got no answer: from that one's send", sentAt: 5000, unansweredSince: 3600, want: 3600 },
  ])("$name", ({ sentAt, unansweredSince, want }) => {
    expect(renewedNoEarlierThan(sentAt, unansweredSince)).toBe(want);
  });
});

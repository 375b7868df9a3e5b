// The state publisher on a fake clock, reporting to a recording function.
import { describe, expect, it } from "vitest";
import { FakeClock } from "@fleet/domain/fixtures";
import type { UnitState } from "@fleet/domain";
import { createLogger } from "@fleet/wire";
import { REPORT_DELAY_MS, REPORT_RETRY_MS, STARTING_REPORT_DELAY_MS, StatePublisher } from "./state-publisher.js";

const state = (name: string, activeState: string): UnitState => ({
  name,
  hash: `hash-of-${name}`,
  machineId: "m1",
  loadState: "loaded",
  activeState,
  subState: activeState === "active" ? "running" : "dead",
  currentState: "launched",
});

function publisher() {
  const clock = new FakeClock();
  const states = new Map<string, UnitState>();
  const reports: Array<{ lease: string; states: string[]; removed: string[] }> = [];
  let lease: string | undefined = "lease-1";
  let failing = false;
  const p = new StatePublisher(
    { leaseId: () => lease, stateOf: (n) => states.get(n) },
    async (leaseId, sent, removed) => {
      if (failing) throw new Error("14 UNAVAILABLE");
      reports.push({ lease: leaseId, states: sent.map((s) => `${s.name} ${s.activeState}`), removed });
    },
    clock,
    createLogger("test", "silent"),
  );
  return {
    p,
    clock,
    states,
    reports,
    setLease: (l: string | undefined) => (lease = l),
    setFailing: (f: boolean) => (failing = f),
  };
}

describe("StatePublisher", () => {
  it("gathers the changes of a short while into one report", async () => {
    const t = publisher();
    t.states.set("a.service", state("a.service", "active"));
    t.states.set("b.service", state("b.service", "active"));
    t.p.changed("a.service");
    await t.clock.advanceAsync(REPORT_DELAY_MS - 1);
    t.p.changed("b.service");
    expect(t.reports).toEqual([]);
    await t.clock.advanceAsync(1);
    expect(t.reports).toEqual([{ lease: "lease-1", states: ["a.service active", "b.service active"], removed: [] }]);
  });

  it("reports a start's end at once, a unit's progress while it starts later, the earliest due time winning", async () => {
    const t = publisher();
    t.states.set("a.service", state("a.service", "activating"));
    t.p.changed("a.service", "starting");
    await t.clock.advanceAsync(STARTING_REPORT_DELAY_MS - 1);
    expect(t.reports).toEqual([]);
    t.states.set("a.service", state("a.service", "active"));
    t.p.changed("a.service", "now");
    await t.clock.advanceAsync(0);
    expect(t.reports.map((r) => r.states)).toEqual([["a.service active"]]);
  });

  it("does not send a state the registry already holds, until a new lease (resendAll)", async () => {
    const t = publisher();
    t.states.set("a.service", state("a.service", "active"));
    t.p.changed("a.service");
    await t.clock.advanceAsync(REPORT_DELAY_MS);
    t.p.changedAll(["a.service"]);
    await t.clock.advanceAsync(REPORT_DELAY_MS);
    expect(t.reports).toHaveLength(1);
    t.setLease("lease-2");
    t.p.resendAll();
    t.p.changedAll(["a.service"]);
    await t.clock.advanceAsync(REPORT_DELAY_MS);
    expect(t.reports.map((r) => r.lease)).toEqual(["lease-1", "lease-2"]);
  });

  it("keeps the changes of a failed report and sends them a second later; removals too", async () => {
    const t = publisher();
    t.states.set("a.service", state("a.service", "active"));
    t.setFailing(true);
    t.p.changed("a.service");
    t.p.removed("gone.service");
    await t.clock.advanceAsync(REPORT_DELAY_MS);
    expect(t.reports).toEqual([]);
    t.setFailing(false);
    await t.clock.advanceAsync(REPORT_RETRY_MS - 1);
    expect(t.reports).toEqual([]);
    await t.clock.advanceAsync(REPORT_DELAY_MS + 1);
    expect(t.reports).toEqual([{ lease: "lease-1", states: ["a.service active"], removed: ["gone.service"] }]);
  });

  it("sends nothing without a lease; the changes wait for the next flush under one", async () => {
    const t = publisher();
    t.setLease(undefined);
    t.states.set("a.service", state("a.service", "active"));
    t.p.changed("a.service");
    await t.clock.advanceAsync(REPORT_DELAY_MS);
    expect(t.reports).toEqual([]);
    t.setLease("lease-1");
    t.p.changed("b.service");
    await t.clock.advanceAsync(REPORT_DELAY_MS);
    expect(t.reports.map((r) => r.states)).toEqual([["a.service active"]]);
  });
});

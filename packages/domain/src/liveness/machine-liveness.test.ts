import { describe, expect, it } from "vitest";
import { describeMassLoss, failingLeases, isUnresponsiveMachineReason, MachineLiveness, unresponsiveMachineReason, type LivenessSettings } from "./machine-liveness.js";

const TTL = 5000;
const SETTINGS: LivenessSettings = { ttlMs: TTL, unhealthyThreshold: 0.55, atMostOnceMarginMs: 1000 };

/** A liveness whose view started at t=0 with these machines and has been steady since. */
function steady(machines: string[], at = 0): MachineLiveness {
  const l = new MachineLiveness(SETTINGS);
  l.viewStarted(at, machines);
  return l;
}

type Step =
  | { at: number; left: string }
  | { at: number; joined: string }
  | { at: number; leases: string[] }
  | { at: number; resync: string[] }
  | { at: number; elected: true };

function run(l: MachineLiveness, steps: Step[]): string[] {
  const lost: string[] = [];
  for (const s of steps) {
    if ("left" in s) l.machineLeft(s.at, s.left);
    else if ("joined" in s) l.machineJoined(s.at, s.joined);
    else if ("leases" in s) l.leasesChecked(s.at, s.leases);
    else if ("resync" in s) l.viewStarted(s.at, s.resync);
    else l.leadershipGained(s.at);
    lost.push(...l.evaluate(s.at).declaredLost);
  }
  return lost;
}

describe("MachineLiveness: when a machine is declared lost", () => {
  it.each<{ name: string; machines: string[]; steps: Step[]; lost: string[] }>([
    {
      name: "one machine of three lapses, the others' leases are healthy: lost at once",
      machines: ["a", "b", "c"],
      steps: [{ at: 20_000, left: "b" }, { at: 20_010, leases: [] }],
      lost: ["b"],
    },
    {
      name: "a missing machine waits for a lease check made after it went missing",
      machines: ["a", "b", "c"],
      steps: [{ at: 10_000, leases: [] }, { at: 20_000, left: "b" }],
      lost: [],
    },
    {
      name: "two of three partitioned: the first lapse finds the other failing, nothing is lost",
      machines: ["a", "b", "c"],
      steps: [
        { at: 20_000, left: "b" },
        { at: 20_010, leases: ["c"] },
        { at: 21_500, left: "c" },
        { at: 21_510, leases: [] },
        { at: 60_000, leases: [] },
      ],
      lost: [],
    },
    {
      name: "mass loss ends when the machines return; a later single loss moves again",
      machines: ["a", "b", "c"],
      steps: [
        { at: 20_000, left: "b" },
        { at: 20_000, left: "c" },
        { at: 20_010, leases: [] },
        { at: 30_000, joined: "b" },
        { at: 30_000, joined: "c" },
        { at: 40_000, left: "c" },
        { at: 40_010, leases: [] },
      ],
      lost: ["c"],
    },
    {
      name: "a lapse seen within agent_ttl of a re-sync waits for the grace period",
      machines: ["a", "b", "c"],
      steps: [
        { at: 20_000, resync: ["a", "b", "c"] },
        { at: 21_000, left: "b" },
        { at: 21_010, leases: [] },
        { at: 24_999, leases: [] },
        { at: 25_000, leases: [] },
      ],
      lost: ["b"],
    },
    {
      name: "machines absent from a re-sync snapshot are missing, and get agent_ttl to return",
      machines: ["a", "b", "c"],
      steps: [
        { at: 20_000, resync: ["a"] },
        { at: 21_000, joined: "b" },
        { at: 21_500, joined: "c" },
        { at: 25_000, leases: [] },
        { at: 26_000, leases: [] },
      ],
      lost: [],
    },
    {
      name: "after a re-sync with everything gone, nothing is lost: a fault, not dead machines",
      machines: ["a", "b", "c"],
      steps: [
        { at: 20_000, resync: [] },
        { at: 25_000, leases: [] },
        { at: 40_000, leases: [] },
      ],
      lost: [],
    },
    {
      name: "leadership gained: a machine that lapses just after waits for the grace period",
      machines: ["a", "b", "c"],
      steps: [
        { at: 20_000, elected: true },
        { at: 20_500, left: "b" },
        { at: 20_510, leases: [] },
        { at: 25_000, leases: [] },
      ],
      lost: ["b"],
    },
    {
      name: "one machine of two lapses: half is not a mass loss",
      machines: ["a", "b"],
      steps: [{ at: 20_000, left: "b" }, { at: 20_010, leases: [] }],
      lost: ["b"],
    },
    {
      name: "the only machine lapses: nowhere to move, held",
      machines: ["a"],
      steps: [{ at: 20_000, left: "a" }, { at: 20_010, leases: [] }],
      lost: [],
    },
    {
      name: "a machine that returns before the check is not lost",
      machines: ["a", "b", "c"],
      steps: [{ at: 20_000, left: "b" }, { at: 20_005, joined: "b" }, { at: 20_010, leases: [] }],
      lost: [],
    },
  ])("$name", ({ machines, steps, lost }) => {
    expect(run(steady(machines), steps)).toEqual(lost);
  });

  it("asks for a lease check while a missing machine waits for one, and says when to look again", () => {
    const l = steady(["a", "b", "c"]);
    l.viewStarted(20_000, ["a", "b", "c"]);
    l.machineLeft(21_000, "b");
    expect(l.evaluate(21_000)).toMatchObject({ declaredLost: [], needLeaseCheck: false, nextAt: 25_000 });
    expect(l.evaluate(25_000)).toMatchObject({ declaredLost: [], needLeaseCheck: true });
    l.leasesChecked(25_010, []);
    expect(l.evaluate(25_010)).toMatchObject({ declaredLost: ["b"], needLeaseCheck: false, nextAt: undefined });
  });

  it("lists the machines it holds units on, with the reason", () => {
    const l = steady(["a", "b", "c"]);
    l.viewStarted(20_000, ["a"]);
    expect(l.heldMachines(21_000)).toEqual([
      { machineId: "b", reason: expect.stringMatching(/^2 of 3 machines lost contact at once/) },
      { machineId: "c", reason: expect.stringMatching(/^2 of 3 machines lost contact at once/) },
    ]);
    l.machineJoined(21_500, "b");
    expect(l.heldMachines(21_500)).toEqual([{ machineId: "c", reason: "machine c is not heart-beating; waiting for it until the engine's view has been steady for agent_ttl" }]);
  });

  it("reports the guard while it holds", () => {
    const l = steady(["a", "b", "c", "d"]);
    l.machineLeft(20_000, "b");
    l.machineLeft(20_000, "c");
    l.leasesChecked(20_010, ["d"]);
    const v = l.evaluate(20_010);
    expect(v.massLoss).toEqual({ affected: ["b", "c", "d"], total: 4, threshold: 0.55 });
    expect(describeMassLoss(v.massLoss!)).toBe(
      "3 of 4 machines lost contact at once (more than engine_unhealthy_threshold 0.55): treated as a partition or a control-plane fault, nothing moves until they return or fewer are missing",
    );
  });
});

describe("MachineLiveness.moveOff", () => {
  it.each<{ name: string; steps: Step[]; now: number; machine: string; atMostOnce: boolean; move: boolean; reason?: RegExp; retryAt?: number }>([
    { name: "a registered machine's units may move (constraints changed)", steps: [], now: 20_000, machine: "a", atMostOnce: true, move: true },
    {
      name: "a lost machine's units move at once",
      steps: [{ at: 20_000, left: "b" }, { at: 20_010, leases: [] }],
      now: 20_010,
      machine: "b",
      atMostOnce: false,
      move: true,
    },
    {
      name: "a lost machine's AtMostOnce units wait for the margin after the lapse was seen",
      steps: [{ at: 20_000, left: "b" }, { at: 20_010, leases: [] }],
      now: 20_500,
      machine: "b",
      atMostOnce: true,
      move: false,
      reason: /AtMostOnce: waiting until 1 s after machine b's lease lapsed/,
      retryAt: 21_000,
    },
    {
      name: "... and move once it has passed",
      steps: [{ at: 20_000, left: "b" }, { at: 20_010, leases: [] }],
      now: 21_000,
      machine: "b",
      atMostOnce: true,
      move: true,
    },
    {
      name: "a missing machine in its grace period holds its units",
      steps: [{ at: 20_000, resync: ["a", "c"] }],
      now: 21_000,
      machine: "b",
      atMostOnce: false,
      move: false,
      reason: /machine b is not heart-beating; waiting for it/,
      retryAt: 25_000,
    },
    {
      name: "a mass loss holds every missing machine's units",
      steps: [{ at: 20_000, left: "b" }, { at: 20_000, left: "c" }, { at: 20_010, leases: [] }],
      now: 30_000,
      machine: "c",
      atMostOnce: false,
      move: false,
      reason: /2 of 3 machines lost contact at once/,
    },
  ])("$name", ({ steps, now, machine, atMostOnce, move, reason, retryAt }) => {
    const l = steady(["a", "b", "c"]);
    run(l, steps);
    const v = l.moveOff(now, machine, atMostOnce);
    expect(v.move).toBe(move);
    if (!v.move) {
      if (reason) expect(v.reason).toMatch(reason);
      expect(v.retryAt).toBe(retryAt);
    }
  });
});

describe("unresponsiveMachineReason", () => {
  it("says the unit stays, with the engine's word when there is one, and is recognised", () => {
    expect(unresponsiveMachineReason("ab")).toBe("machine ab is not responding; the unit stays placed there until it returns or the engine declares it lost");
    const r = unresponsiveMachineReason("ab", "2 of 3 machines lost contact at once");
    expect(r).toMatch(/lost \(2 of 3 machines lost contact at once\)$/);
    expect(isUnresponsiveMachineReason(r, "ab")).toBe(true);
    expect(isUnresponsiveMachineReason(r, "cd")).toBe(false);
    expect(isUnresponsiveMachineReason("least-loaded eligible machine", "ab")).toBe(false);
  });
});

describe("failingLeases", () => {
  it("a lease with less than half its TTL left has missed heartbeats", () => {
    expect(
      failingLeases([
        { machineId: "a", remainingMs: 4000, grantedMs: 5000 },
        { machineId: "b", remainingMs: 2500, grantedMs: 5000 },
        { machineId: "c", remainingMs: 2000, grantedMs: 5000 },
        { machineId: "d", remainingMs: -1000, grantedMs: 5000 },
      ]),
    ).toEqual(["c", "d"]);
  });
});

import { describe, expect, it } from "vitest";
import { filterForLiveness, placeableAtMostOnce, stillRuns, type LivenessView } from "./liveness-filter.js";
import type { MoveOff } from "./machine-liveness.js";
import type { Placement, UnitState } from "../types.js";

/** present: registered; lost: declared lost (AtMostOnce margin passed unless "early"); held: missing. */
type Machines = Record<string, "present" | "lost" | "lost-early" | "held">;

function view(machines: Machines): LivenessView {
  return {
    isPresent: (id) => machines[id] === "present",
    moveOff: (_now, id, amo): MoveOff => {
      const m = machines[id];
      if (m === "held") return { move: false, reason: `machine ${id} is not heart-beating`, retryAt: 9000 };
      if (m === "lost-early" && amo) return { move: false, reason: "AtMostOnce: waiting", retryAt: 7000 };
      return { move: true };
    },
  };
}

const p = (unitName: string, machineId: string, reason = "least-loaded eligible machine"): Placement => ({ unitName, machineId, reason });

describe("filterForLiveness", () => {
  it.each<{ name: string; machines: Machines; placed: Record<string, string>; amo?: string[]; changes: Placement[]; want: Partial<Record<"write" | "ifNotRunning" | "held", string[]>> & { offLost?: Record<string, string[]>; retryAt?: number } }>([
    {
      name: "a new unit is placed",
      machines: { a: "present" },
      placed: {},
      changes: [p("u", "a")],
      want: { write: ["u->a"] },
    },
    {
      name: "units of a lost machine move",
      machines: { a: "present", b: "lost" },
      placed: { u: "b" },
      changes: [p("u", "a", "machine b went away")],
      want: { write: ["u->a"] },
    },
    {
      name: "units of a machine not declared lost stay, with the reason and when to look again",
      machines: { a: "present", b: "held" },
      placed: { u: "b" },
      changes: [p("u", "a", "machine b went away")],
      want: { held: ["u->a: machine b is not heart-beating"], retryAt: 9000 },
    },
    {
      name: "a unit taken off the schedule is written even off a held machine",
      machines: { b: "held" },
      placed: { u: "b" },
      changes: [p("u", "", "")],
      want: { write: ["u->"] },
    },
    {
      name: "a unit that cannot be placed anywhere else stays on a held machine",
      machines: { b: "held" },
      placed: { u: "b" },
      changes: [p("u", "", "no machine")],
      want: { held: ["u->: machine b is not heart-beating"], retryAt: 9000 },
    },
    {
      name: "AtMostOnce off a lost machine: fenced by that machine staying unregistered",
      machines: { a: "present", b: "lost" },
      placed: { u: "b", v: "b" },
      amo: ["u", "v"],
      changes: [p("u", "a"), p("v", "a")],
      want: { offLost: { b: ["u->a", "v->a"] } },
    },
    {
      name: "AtMostOnce off a lost machine before the margin: held",
      machines: { a: "present", b: "lost-early" },
      placed: { u: "b" },
      amo: ["u"],
      changes: [p("u", "a")],
      want: { held: ["u->a: AtMostOnce: waiting"], retryAt: 7000 },
    },
    {
      name: "AtMostOnce off a live machine: unscheduled first",
      machines: { a: "present", b: "present" },
      placed: { u: "b" },
      amo: ["u"],
      changes: [p("u", "a", "machine metadata changed")],
      want: { write: ["u->: AtMostOnce: leaving machine b; placed again once it has stopped there"] },
    },
    {
      name: "AtMostOnce placed: only if not running elsewhere",
      machines: { a: "present" },
      placed: {},
      amo: ["u"],
      changes: [p("u", "a")],
      want: { ifNotRunning: ["u->a"] },
    },
  ])("$name", ({ machines, placed, amo, changes, want }) => {
    const got = filterForLiveness(changes, {
      now: 5000,
      liveness: view(machines),
      placedOn: (u) => placed[u] ?? "",
      isAtMostOnce: (u) => (amo ?? []).includes(u),
    });
    const fmt = (c: Placement) => `${c.unitName}->${c.machineId}`;
    expect(got.write.map((c) => (c.reason.startsWith("AtMostOnce") ? `${fmt(c)}: ${c.reason}` : fmt(c)))).toEqual(want.write ?? []);
    expect(got.ifNotRunning.map(fmt)).toEqual(want.ifNotRunning ?? []);
    expect(got.held.map((h) => `${fmt(h.change)}: ${h.reason}`)).toEqual(want.held ?? []);
    expect(Object.fromEntries([...got.offLost].map(([m, cs]) => [m, cs.map(fmt)]))).toEqual(want.offLost ?? {});
    expect(got.retryAt).toBe(want.retryAt);
  });
});

describe("placeableAtMostOnce", () => {
  const s = (name: string, machineId: string, activeState: string): UnitState => ({ name, machineId, activeState, hash: "", loadState: "loaded", subState: "", currentState: "launched" });
  it("holds a unit another machine still runs, places the rest", () => {
    const got = placeableAtMostOnce(
      [p("u", "a"), p("v", "a"), p("w", "a")],
      [s("u", "b", "deactivating"), s("v", "b", "inactive"), s("w", "a", "active")],
    );
    expect(got.place.map((c) => c.unitName)).toEqual(["v", "w"]);
    expect(got.held).toEqual([{ change: p("u", "a"), reason: "AtMostOnce: still deactivating on machine b" }]);
  });

  it.each([
    ["active", true],
    ["activating", true],
    ["deactivating", true],
    ["reloading", true],
    ["inactive", false],
    ["failed", false],
    ["", false],
  ])("stillRuns(%j) is %s", (state, runs) => {
    expect(stillRuns(state)).toBe(runs);
  });
});

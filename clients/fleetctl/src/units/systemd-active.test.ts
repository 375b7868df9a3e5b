import type { UnitState } from "@fleet/domain";
import { describe, expect, it } from "vitest";
import { FakeFleetApi } from "../api/fake-fleet-api.js";
import { isSystemdActive, notActiveError, waitForSystemdActive, type ActiveCheckContext } from "./systemd-active.js";

const state = (name: string, activeState: string, loadState = "loaded"): UnitState => ({
  name,
  hash: "h",
  machineId: "m1",
  loadState,
  activeState,
  subState: "",
  currentState: "launched",
});

describe("isSystemdActive", () => {
  const cases: { label: string; states: UnitState[]; want: boolean }[] = [
    { label: "active and loaded", states: [state("a.service", "active")], want: true },
    { label: "failed (the process exited at once)", states: [state("a.service", "failed")], want: false },
    { label: "activating", states: [state("a.service", "activating")], want: false },
    { label: "a oneshot that finished", states: [state("a.service", "inactive")], want: false },
    { label: "active but not loaded", states: [state("a.service", "active", "not-found")], want: false },
    { label: "no state reported", states: [], want: false },
    { label: "another unit's state", states: [state("b.service", "active")], want: false },
  ];
  for (const c of cases) it(c.label, () => expect(isSystemdActive(c.states, "a.service")).toBe(c.want));
});

/** A context whose clock moves only when slept, and whose states are what `states(now)` says. */
function context(states: (now: number) => UnitState[] | Error) {
  const api = new FakeFleetApi();
  let now = 0;
  const looks: number[] = [];
  api.listUnitStates = async (names) => {
    looks.push(now);
    const s = states(now);
    if (s instanceof Error) throw s;
    return s.filter((x) => names === undefined || names.includes(x.name));
  };
  const ctx: ActiveCheckContext = {
    api,
    output: { stdout: () => {}, stderr: () => {} },
    clock: { now: () => now, sleep: async (ms) => void (now += ms) },
    debug: false,
  };
  return { ctx, looks };
}

describe("waitForSystemdActive", () => {
  it("looks 250 ms after launched and every 250 ms: a unit active after 1 s passes", async () => {
    const t = context((now) => [state("a.service", now >= 1_000 ? "active" : "activating")]);
    expect(await waitForSystemdActive(t.ctx, ["a.service"])).toBeUndefined();
    expect(t.looks).toEqual([250, 500, 750, 1_000]);
  });

  it("gives up after 2 s with fleet's message for the first unit (in the order given) that is not active", async () => {
    const t = context(() => [state("a.service", "active"), state("b.service", "failed"), state("c.service", "failed")]);
    expect(await waitForSystemdActive(t.ctx, ["c.service", "a.service", "b.service"])).toBe(
      "Failed to find an active unit c.service within 2s, err: Failed to fetch states within 2s",
    );
    expect(t.looks).toEqual([250, 500, 750, 1_000, 1_250, 1_500, 1_750, 2_000]);
  });

  it("keeps looking through failed reads", async () => {
    const t = context((now) => (now < 750 ? new Error("unavailable") : [state("a.service", "active")]));
    expect(await waitForSystemdActive(t.ctx, ["a.service"])).toBeUndefined();
  });

  it("says a unit is not active only on a state read: reads failing past 2 s are tried again, up to 10 s", async () => {
    const late = context((now) => (now < 3_000 ? new Error("unavailable") : [state("a.service", "active")]));
    expect(await waitForSystemdActive(late.ctx, ["a.service"])).toBeUndefined();
    expect(late.looks.at(-1)).toBe(3_000);
    const never = context(() => new Error("unavailable"));
    expect(await waitForSystemdActive(never.ctx, ["a.service"])).toBe(notActiveError("a.service"));
    expect(never.looks.at(-1)).toBe(10_000);
  });

  it("does nothing for no units", async () => {
    const t = context(() => []);
    expect(await waitForSystemdActive(t.ctx, [])).toBeUndefined();
    expect(t.looks).toEqual([]);
  });

  it("words the error as fleet's (Go prints 2 s as 2s)", () => {
    expect(notActiveError("x.service")).toBe("Failed to find an active unit x.service within 2s, err: Failed to fetch states within 2s");
  });
});

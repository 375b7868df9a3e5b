import type { Unit } from "@fleet/domain";
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../context/context.js";
import { FakeFleetApi } from "../api/fake-fleet-api.js";
import type { UnitView } from "../api/fleet-api.js";
import { MachineDirectory } from "../api/machine-directory.js";
import { pollInterval, hasReached, progressMessage, reachedMessage, waitBudgetMs, waitForUnitStates, WATCH_TICK_MS } from "./wait.js";

const m1 = { id: "113f16a7b9c34d5e8f0a1b2c3d4e5f60", publicIp: "10.0.0.3", metadata: {} };
const GLOBAL = [{ section: "X-Fleet", name: "Global", value: "true" }];

function view(name: string, over: Partial<UnitView> = {}, unit: Partial<Unit> = {}): UnitView {
  return {
    unit: { name, options: [], hash: "", desiredState: "launched", ...unit },
    machineId: "",
    currentState: "inactive",
    reason: "",
    ...over,
  };
}

describe("hasReached", () => {
  const cases: { label: string; view: UnitView; target: "inactive" | "loaded" | "launched"; want: boolean }[] = [
    { label: "launched on a machine", view: view("a", { currentState: "launched", machineId: m1.id }), target: "launched", want: true },
    { label: "launched without a machine yet", view: view("a", { currentState: "launched" }), target: "launched", want: false },
    { label: "still loaded", view: view("a", { currentState: "loaded", machineId: m1.id }), target: "launched", want: false },
    { label: "loaded on a machine", view: view("a", { currentState: "loaded", machineId: m1.id }), target: "loaded", want: true },
    { label: "inactive needs no machine", view: view("a"), target: "inactive", want: true },
    { label: "inactive while still on a machine counts", view: view("a", { machineId: m1.id }), target: "inactive", want: true },
    {
      label: "global unit: its desired state counts",
      view: view("g", {}, { options: GLOBAL, desiredState: "launched" }),
      target: "launched",
      want: true,
    },
    {
      label: "global unit not yet desired",
      view: view("g", { currentState: "launched" }, { options: GLOBAL, desiredState: "loaded" }),
      target: "launched",
      want: false,
    },
  ];
  for (const c of cases) it(c.label, () => expect(hasReached(c.view, c.target)).toBe(c.want));
});

describe("messages", () => {
  const cases: { label: string; got: string; want: string }[] = [
    {
      label: "launched on a known machine",
      got: reachedMessage(view("hello.service", { currentState: "launched", machineId: m1.id }), m1),
      want: "Unit hello.service launched on 113f16a7.../10.0.0.3",
    },
    {
      label: "machine unknown: no legend, as fleet",
      got: reachedMessage(view("hello.service", { currentState: "loaded", machineId: m1.id }), undefined),
      want: "Unit hello.service loaded",
    },
    { label: "inactive", got: reachedMessage(view("hello.service"), undefined), want: "Unit hello.service inactive" },
    {
      label: "progress, unscheduled with a reason",
      got: progressMessage("a.service", "launched", view("a.service", { reason: "no machine matches region=eu" }), undefined),
      want: "Waiting for unit a.service to be launched: currently inactive, not scheduled: no machine matches region=eu",
    },
    {
      label: "progress, unscheduled",
      got: progressMessage("a.service", "launched", view("a.service"), undefined),
      want: "Waiting for unit a.service to be launched: currently inactive, not scheduled yet",
    },
    {
      label: "progress, on a machine",
      got: progressMessage("a.service", "launched", view("a.service", { currentState: "loaded", machineId: m1.id }), m1),
      want: "Waiting for unit a.service to be launched: currently loaded, on 113f16a7.../10.0.0.3",
    },
    {
      label: "progress, on an unknown machine",
      got: progressMessage("a.service", "launched", view("a.service", { currentState: "loaded", machineId: m1.id }), undefined),
      want: "Waiting for unit a.service to be launched: currently loaded, on 113f16a7...",
    },
    {
      label: "progress, unit gone",
      got: progressMessage("a.service", "launched", undefined, undefined),
      want: "Waiting for unit a.service to be launched: unit not found",
    },
  ];
  for (const c of cases) it(c.label, () => expect(c.got).toBe(c.want));
});

describe("waitBudgetMs", () => {
  it("is fleet 1.0's 2 s per attempt, unlimited for 0", () => {
    expect(waitBudgetMs(0)).toBeUndefined();
    expect(waitBudgetMs(10)).toBe(20_000);
  });
});

function context(api: FakeFleetApi) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let now = 0;
  const sleeps: number[] = [];
  const ctx: CommandContext = {
    api,
    output: { stdout: (t) => void stdout.push(t), stderr: (t) => void stderr.push(t) },
    files: { readFile: async () => undefined },
    processes: { run: async () => 0, ssh: async () => ({ code: 0, log: "" }), forward: async () => {}, onInterrupt: () => () => {} },
    ssh: { username: "core", timeoutS: 10, strictHostKeyChecking: true, knownHostsFile: "", tunnel: "" },
    clock: {
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    },
    machines: new MachineDirectory(api),
    debug: false,
  };
  return { ctx, stdout, stderr, sleeps, elapsed: () => now };
}

async function launching(api: FakeFleetApi, ...names: string[]): Promise<void> {
  for (const name of names) {
    await api.createUnit({ name, options: [], hash: "", desiredState: "inactive" });
    await api.setUnitTargetState(name, "launched");
  }
}

describe("waitForUnitStates with the API's watch", () => {
  const launchedView = view("hello.service", { currentState: "launched", machineId: m1.id });

  it("prints the line when the watch says the unit got there, without polling, and ends the watch", async () => {
    const api = new FakeFleetApi({ machines: [m1], convergeAfterPolls: "never" });
    await launching(api, "hello.service");
    let push: ((views: ReadonlyMap<string, UnitView | undefined>) => void) | undefined;
    let cancelled = false;
    api.watchUnits = (names, onViews) => {
      push = onViews;
      queueMicrotask(() => onViews(new Map(names.map((n) => [n, api.units.get(n)]))));
      return { done: new Promise<void>(() => {}), cancel: () => void (cancelled = true) };
    };
    const t = context(api);
    // The unit gets there during the wait's third tick.
    const ctx: CommandContext = {
      ...t.ctx,
      clock: {
        now: t.ctx.clock.now,
        sleep: async (ms) => {
          await t.ctx.clock.sleep(ms);
          if (t.sleeps.length === 3) push?.(new Map([["hello.service", launchedView]]));
        },
      },
    };
    expect(await waitForUnitStates(ctx, ["hello.service"], "launched", 0)).toEqual([]);
    expect(t.stdout.join("")).toBe("Unit hello.service launched on 113f16a7.../10.0.0.3\n");
    expect(t.sleeps).toEqual([WATCH_TICK_MS, WATCH_TICK_MS, WATCH_TICK_MS]);
    expect(api.calls.filter((c) => c.method === "getUnit" || c.method === "listUnits")).toEqual([]);
    expect(cancelled).toBe(true);
  });

  it("keeps its time budget while watching", async () => {
    const api = new FakeFleetApi({ machines: [m1], convergeAfterPolls: "never" });
    await launching(api, "hello.service");
    api.watchUnits = (names, onViews) => {
      queueMicrotask(() => onViews(new Map(names.map((n) => [n, api.units.get(n)]))));
      return { done: new Promise<void>(() => {}), cancel: () => {} };
    };
    const t = context(api);
    expect(await waitForUnitStates(t.ctx, ["hello.service"], "launched", 2)).toEqual(["timed out waiting for unit hello.service to report state launched"]);
    expect(t.elapsed()).toBe(4_000);
  });

  it("polls when the watch fails", async () => {
    const api = new FakeFleetApi({ machines: [m1], convergeAfterPolls: 2 });
    await launching(api, "hello.service");
    api.watchUnits = () => ({ done: Promise.reject(new Error("unimplemented")), cancel: () => {} });
    const t = context(api);
    expect(await waitForUnitStates(t.ctx, ["hello.service"], "launched", 0)).toEqual([]);
    expect(t.stdout.join("")).toBe("Unit hello.service launched on 113f16a7.../10.0.0.3\n");
    expect(api.calls.filter((c) => c.method === "getUnit").length).toBe(3);
  });
});

describe("waitForUnitStates", () => {
  it("polls every 5 ms at first until the unit is launched, then prints fleet's line", async () => {
    const api = new FakeFleetApi({ machines: [m1], convergeAfterPolls: 3 });
    await launching(api, "hello.service");
    const t = context(api);
    expect(await waitForUnitStates(t.ctx, ["hello.service"], "launched", 0)).toEqual([]);
    expect(t.stdout.join("")).toBe("Unit hello.service launched on 113f16a7.../10.0.0.3\n");
    expect(t.sleeps).toEqual([5, 5, 5]);
    expect(t.stderr).toEqual([]);
  });

  it("polls every 5 ms for the first second (25 ms when reading all units), then every 50 ms", () => {
    expect([0, 990, 1000, 60_000].map((t) => pollInterval(t))).toEqual([5, 5, 50, 50]);
    expect([0, 990, 1000, 60_000].map((t) => pollInterval(t, 100))).toEqual([25, 25, 50, 50]);
  });

  it("prints units in argument order when they arrive together", async () => {
    const api = new FakeFleetApi({ machines: [m1], convergeAfterPolls: 1 });
    await launching(api, "b.service", "a.service");
    const t = context(api);
    await waitForUnitStates(t.ctx, ["b.service", "a.service"], "launched", 0);
    expect(t.stdout.join("")).toBe(
      "Unit b.service launched on 113f16a7.../10.0.0.3\nUnit a.service launched on 113f16a7.../10.0.0.3\n",
    );
  });

  it("gives up after N attempts of 2 s", async () => {
    const api = new FakeFleetApi({ machines: [m1], convergeAfterPolls: "never" });
    await launching(api, "hello.service");
    const t = context(api);
    expect(await waitForUnitStates(t.ctx, ["hello.service"], "launched", 2)).toEqual([
      "timed out waiting for unit hello.service to report state launched",
    ]);
    expect(t.elapsed()).toBe(4_000);
    expect(t.stdout).toEqual([]);
  });

  it("shows progress on stderr when waiting is long, keeping stdout clean", async () => {
    const api = new FakeFleetApi({ machines: [m1], convergeAfterPolls: 700 });
    await launching(api, "hello.service");
    const t = context(api);
    await waitForUnitStates(t.ctx, ["hello.service"], "launched", 0);
    expect(t.stdout.join("")).toBe("Unit hello.service launched on 113f16a7.../10.0.0.3\n");
    // 700 polls = 200 in the first second + 500 x 50 ms = 26 s: progress at 10 s and 20 s.
    expect(t.stderr).toEqual([
      "Waiting for unit hello.service to be launched: currently inactive, not scheduled yet\n",
      "Waiting for unit hello.service to be launched: currently inactive, not scheduled yet\n",
    ]);
  });

  it("keeps polling through API errors", async () => {
    const api = new FakeFleetApi({ machines: [m1], convergeAfterPolls: 0 });
    await launching(api, "hello.service");
    let failures = 2;
    const getUnit = api.getUnit.bind(api);
    api.getUnit = async (name) => {
      if (failures-- > 0) throw new Error("unavailable");
      return getUnit(name);
    };
    const t = context(api);
    expect(await waitForUnitStates(t.ctx, ["hello.service"], "launched", 0)).toEqual([]);
    expect(t.sleeps).toHaveLength(2);
  });

  it("waits for nothing when given no units", async () => {
    const t = context(new FakeFleetApi());
    expect(await waitForUnitStates(t.ctx, [], "launched", 0)).toEqual([]);
    expect(t.sleeps).toEqual([]);
  });
});

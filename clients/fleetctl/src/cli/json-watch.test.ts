// --output json on list-machines, list-units, list-unit-files and status (fleet's HTTP API v1
// field names), and list-units --watch redrawing on every change the api pushes, until Ctrl-C.
import type { UnitState } from "@fleet/domain";
import { describe, expect, it } from "vitest";
import type { UnitView } from "../api/fleet-api.js";
import { existing, HELLO, m1, m2, setup } from "./fleetctl-harness.js";

const state = (name: string, machineId: string, activeState = "active"): UnitState => ({
  name,
  hash: "a".repeat(40),
  machineId,
  loadState: "loaded",
  activeState,
  subState: activeState === "active" ? "running" : "dead",
  currentState: "launched",
});
const running = (name: string) => existing(name, HELLO, { desired: "launched", currentState: "launched", machineId: m1.id });

describe("--output json", () => {
  it("list-machines prints fleet's machine entities", async () => {
    const { run } = setup();
    const r = await run("list-machines", "-o", "json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      machines: [
        { id: m1.id, primaryIP: "10.0.0.3", metadata: { region: "us-west" } },
        { id: m2.id, primaryIP: "10.0.0.4", metadata: {} },
      ],
    });
    expect(r.stdout.endsWith("}\n")).toBe(true);
  });

  it("list-units prints each unit's state with its machine's address, whatever --fields says", async () => {
    const { run } = setup({ states: [state("b.service", m2.id, "failed"), state("a.service", m1.id)] });
    const r = await run("list-units", "--output=json", "--fields=unit");
    expect(JSON.parse(r.stdout)).toEqual({
      states: [
        { name: "a.service", hash: "a".repeat(40), machineID: m1.id, machineIP: "10.0.0.3", systemdLoadState: "loaded", systemdActiveState: "active", systemdSubState: "running", currentState: "launched" },
        { name: "b.service", hash: "a".repeat(40), machineID: m2.id, machineIP: "10.0.0.4", systemdLoadState: "loaded", systemdActiveState: "failed", systemdSubState: "dead", currentState: "launched" },
      ],
    });
  });

  it("list-unit-files prints each unit with its options, placement and why it is not placed", async () => {
    const unplaced: UnitView = { ...existing("c.service", HELLO, { desired: "launched" }), reason: "no machine matches MachineMetadata=disk=ssd" };
    const { run } = setup({ units: [running("a.service"), unplaced] });
    const doc = JSON.parse((await run("list-unit-files", "-o", "json")).stdout) as { units: Array<Record<string, unknown>> };
    expect(doc.units.map((u) => [u.name, u.desiredState, u.currentState, u.machineID, u.machineIP, u.reason])).toEqual([
      ["a.service", "launched", "launched", m1.id, "10.0.0.3", ""],
      ["c.service", "launched", "inactive", "", "", "no machine matches MachineMetadata=disk=ssd"],
    ]);
    expect(doc.units[0]?.options).toEqual([
      { section: "Unit", name: "Description", value: "Hello World" },
      { section: "Service", name: "ExecStart", value: "/bin/sleep 100" },
    ]);
  });

  it("status prints systemctl's text and exit code per unit; exit 1 when one is not fine", async () => {
    const { run } = setup({
      units: [running("a.service"), running("b.service")],
      statuses: { "b.service": { machineId: m1.id, text: "● b.service\n   Active: failed\n", exitCode: 3 } },
    });
    const r = await run("status", "-o", "json", "a.service", "b.service");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      units: [
        { name: "a.service", machineID: m1.id, desiredState: "launched", currentState: "launched", status: "● a.service\n", statusExitCode: 0 },
        { name: "b.service", machineID: m1.id, desiredState: "launched", currentState: "launched", status: "● b.service\n   Active: failed\n", statusExitCode: 3 },
      ],
    });
  });

  it("refuses an unknown format, naming the flag, and prints nothing else", async () => {
    const { run } = setup();
    expect(await run("list-units", "-o", "yaml")).toEqual({ code: 1, stdout: "", stderr: 'invalid value "yaml" for --output: use table or json\n' });
  });
});

describe("list-units --watch", () => {
  it("draws the list, again on each change pushed (coalesced), and ends with exit 0 on Ctrl-C", async () => {
    let push: ((views: ReadonlyMap<string, UnitView | undefined>) => void) | undefined;
    let cancelled = false;
    let end: (() => void) | undefined;
    const states = [state("a.service", m1.id)];
    const ctx = setup({ states });
    ctx.api.watchUnits = (names, onViews) => {
      expect(names).toEqual([]);
      push = onViews;
      onViews(new Map());
      return { done: new Promise<void>((resolve) => (end = resolve)), cancel: () => ((cancelled = true), end?.()) };
    };
    const running = ctx.run("list-units", "--watch", "--no-legend");
    await new Promise((resolve) => setTimeout(resolve, 10));
    ctx.api.states.push(state("b.service", m2.id));
    push?.(new Map([["b.service", undefined]]));
    push?.(new Map([["b.service", undefined]]));
    await new Promise((resolve) => setTimeout(resolve, 10));
    ctx.interrupt();
    const r = await running;
    expect(r.code).toBe(0);
    expect(cancelled).toBe(true);
    // Two drawings: as it was, then once for both pushes.
    expect(r.stdout.split("\n").filter((l) => l !== "")).toEqual(["a.service\t113f16a7.../10.0.0.3\tactive\trunning", "a.service\t113f16a7.../10.0.0.3\tactive\trunning", "b.service\t9a8b7c6d.../10.0.0.4\tactive\trunning"]);
  });

  it("with --output json prints one compact document per drawing", async () => {
    const ctx = setup({ states: [state("a.service", m1.id)] });
    let push: ((views: ReadonlyMap<string, UnitView | undefined>) => void) | undefined;
    ctx.api.watchUnits = (_names, onViews) => {
      push = onViews;
      onViews(new Map());
      return { done: new Promise<void>(() => undefined), cancel: () => undefined };
    };
    const running = ctx.run("list-units", "-w", "-o", "json");
    await new Promise((resolve) => setTimeout(resolve, 10));
    push?.(new Map());
    await new Promise((resolve) => setTimeout(resolve, 10));
    ctx.interrupt();
    const lines = (await running).stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ states: [{ name: "a.service" }] });
  });
});

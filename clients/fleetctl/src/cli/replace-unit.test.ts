// --replace where the API can replace a unit in one write (FleetService.ReplaceUnit): the unit is
// never destroyed, so it keeps its machine, and a replacement the cluster refuses leaves the old
// unit as it was.
import type { Unit } from "@fleet/domain";
import { describe, expect, it } from "vitest";
import type { FleetApi } from "../api/fleet-api.js";
import { existing, HELLO, m1, setup, unitOf } from "./fleetctl-harness.js";

const CHANGED = HELLO.replace("100", "200");

/** The harness with a replaceUnit that keeps the unit's placement, as the registry does; `refuse` fails it. */
function withReplace(options: Parameters<typeof setup>[0], refuse?: string) {
  const h = setup(options);
  const replaced: Unit[] = [];
  const api: FleetApi = h.api;
  api.replaceUnit = async (unit) => {
    if (refuse) throw new Error(refuse);
    replaced.push(unit);
    const view = h.api.units.get(unit.name);
    h.api.units.set(unit.name, view ? { ...view, unit } : { unit, machineId: "", currentState: "inactive", reason: "" });
  };
  return { ...h, replaced };
}

describe("--replace with ReplaceUnit", () => {
  it("start --replace replaces the running unit in one write: no destroy, it stays on its machine", async () => {
    const running = existing("hello.service", HELLO, { desired: "launched", currentState: "launched", machineId: m1.id });
    const state = { name: "hello.service", hash: "", machineId: m1.id, loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" as const };
    const { api, run, replaced } = withReplace({ units: [running], states: [state], files: { "hello.service": CHANGED }, placeOn: m1.id });
    expect(await run("start", "--replace", "hello.service")).toEqual({
      code: 0,
      stdout: "Unit hello.service inactive\nUnit hello.service launched on 113f16a7.../10.0.0.3\n",
      stderr: "",
    });
    expect(replaced).toEqual([unitOf("hello.service", CHANGED, "launched")]);
    expect(api.writes()).toEqual([]);
    expect(api.units.get("hello.service")).toMatchObject({ machineId: m1.id, unit: { options: unitOf("x", CHANGED, "launched").options } });
  });

  it("load --replace and submit --replace replace at their own desired state", async () => {
    const { run, replaced } = withReplace({ units: [existing("a.service", HELLO), existing("b.service", HELLO, { desired: "loaded", currentState: "loaded", machineId: m1.id })], files: { "a.service": CHANGED, "b.service": CHANGED } });
    expect((await run("submit", "--replace", "a.service")).code).toBe(0);
    expect((await run("load", "--replace", "--block-attempts=2", "b.service")).code).toBe(0);
    expect(replaced.map((u) => `${u.name}:${u.desiredState}`)).toEqual(["a.service:inactive", "b.service:loaded"]);
  });

  it("a replacement the cluster refuses fails the command and leaves the old unit in place", async () => {
    const running = existing("hello.service", HELLO, { desired: "launched", currentState: "launched", machineId: m1.id });
    const { api, run } = withReplace({ units: [running], files: { "hello.service": CHANGED } }, "Global cannot be used with Replaces");
    const r = await run("start", "--replace", "hello.service");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("failed replacing unit hello.service: Global cannot be used with Replaces");
    expect(api.units.get("hello.service")).toEqual(running);
    expect(api.writes()).toEqual([]);
  });
});

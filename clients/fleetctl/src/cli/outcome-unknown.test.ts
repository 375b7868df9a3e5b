// Writes whose answer was lost: fleetctl says in one line that the write may have been applied
// and that retrying is safe, exits 1, and running the same command again finishes the job.
import { FleetError } from "@fleet/wire";
import { describe, expect, it } from "vitest";
import type { Unit } from "@fleet/domain";
import { existing, HELLO, m1, setup, unitOf } from "./fleetctl-harness.js";

const RETRY = "retrying is safe (check with fleetctl list-unit-files)";
const CAUSE = "the connection to the api (127.0.0.1:49500) was lost before its answer (Connection dropped)";
const lost = (what: string) => new FleetError("unavailable", `${what} may have been applied: ${CAUSE}`, "unknown");

describe("a write whose outcome is unknown", () => {
  it("start: the create was applied but its answer lost; one clear line, exit 1; starting again succeeds", async () => {
    const { api, run } = setup({ files: { "hello.service": HELLO }, placeOn: m1.id });
    const createIfAbsent = api.createUnitIfAbsent as (unit: Unit) => Promise<boolean>;
    let loseAnswer = true;
    api.createUnitIfAbsent = async (unit) => {
      const created = await createIfAbsent(unit);
      if (!loseAnswer) return created;
      loseAnswer = false;
      throw lost(`creating unit ${unit.name}`);
    };
    expect(await run("start", "hello.service")).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error: creating unit hello.service may have been applied: ${CAUSE}; ${RETRY}\n`,
    });
    expect(await run("start", "hello.service")).toMatchObject({ code: 0, stderr: "" });
    expect(api.units.get("hello.service")).toMatchObject({ unit: { desiredState: "launched" }, currentState: "launched", machineId: m1.id });
    // Created once, by the first attempt; the retry found it with the same contents.
    expect(api.writes().filter((w) => w.method === "createUnit")).toEqual([{ method: "createUnit", unit: unitOf("hello.service", HELLO, "launched") }]);
  });

  it("stop: a desired state whose answer was lost says so", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO, { desired: "launched", currentState: "launched", machineId: m1.id })] });
    api.failOn("setUnitTargetState", lost("setting the desired state of unit hello.service to loaded"));
    expect(await run("stop", "hello.service")).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error: setting the desired state of unit hello.service to loaded may have been applied: ${CAUSE}; ${RETRY}\n`,
    });
  });

  it("destroy: says so for the unit it concerns", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO)] });
    api.failOn("destroyUnit", lost("destroying unit hello.service"));
    const result = await run("destroy", "hello.service");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error: destroying unit hello.service may have been applied: ${CAUSE}; ${RETRY}\n`);
  });

  it("a write that was never sent keeps the usual wording: nothing to check", async () => {
    const { api, run } = setup({ files: { "hello.service": HELLO } });
    const notSent = new FleetError("unavailable", "the api at 127.0.0.1:49500 is not reachable, nothing was sent (No connection established)", "not-applied");
    api.createUnitIfAbsent = async () => {
      throw notSent;
    };
    const result = await run("start", "hello.service");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error creating units: failed creating unit hello.service: ${notSent.message}\n`);
  });
});

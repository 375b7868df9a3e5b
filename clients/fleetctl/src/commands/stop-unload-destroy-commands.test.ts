// stop, unload, destroy and cat end to end against the in-memory FleetApi: exact stdout,
// stderr, exit codes and the writes each command makes.
import { describe, expect, it } from "vitest";
import { existing, GLOBAL, HELLO, m1, setup } from "../cli/fleetctl-harness.js";

describe("stop", () => {
  const launched = existing("hello.service", HELLO, { desired: "launched", currentState: "launched", machineId: m1.id });

  it("stops a launched unit and waits until it is loaded", async () => {
    const { api, run } = setup({ units: [launched] });
    expect(await run("stop", "hello.service")).toEqual({
      code: 0,
      stdout: "Unit hello.service loaded on 113f16a7.../10.0.0.3\n",
      stderr: "Successfully stopped units [hello.service].\n",
    });
    expect(api.writes()).toEqual([{ method: "setUnitTargetState", name: "hello.service", state: "loaded" }]);
  });

  it("--no-block", async () => {
    const { run } = setup({ units: [launched] });
    expect(await run("stop", "--no-block", "hello")).toEqual({
      code: 0,
      stdout: "Triggered unit hello.service stop\n",
      stderr: "Successfully stopped units [hello.service].\n",
    });
  });

  it("refuses an inactive unit, changing nothing", async () => {
    const { api, run } = setup({ units: [launched, existing("idle.service", HELLO)] });
    expect(await run("stop", "hello.service", "idle.service")).toEqual({
      code: 1,
      stdout: "",
      stderr: "Unable to stop unit idle.service in state inactive\n",
    });
    expect(api.writes()).toEqual([]);
  });

  it("skips a unit already loaded", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO, { desired: "loaded", currentState: "loaded", machineId: m1.id })] });
    expect(await run("stop", "hello.service")).toEqual({ code: 0, stdout: "", stderr: "Successfully stopped units [].\n" });
    expect(api.writes()).toEqual([]);
  });

  it("stops a global unit without waiting", async () => {
    const { run } = setup({ units: [existing("agent.service", GLOBAL, { desired: "launched" })] });
    expect(await run("stop", "agent.service")).toEqual({
      code: 0,
      stdout: "Triggered global unit agent.service stop\n",
      stderr: "Successfully stopped units [].\n",
    });
  });

  it("reports unknown units and changes nothing", async () => {
    const { api, run } = setup({ units: [launched] });
    expect(await run("stop", "hello.service", "nope.service")).toEqual({ code: 1, stdout: "", stderr: "Unit nope.service not found\n" });
    expect(api.writes()).toEqual([]);
  });

  it("reports API failures", async () => {
    const { api, run } = setup({ units: [launched] });
    api.failOn("getUnit", new Error("connect ECONNREFUSED 127.0.0.1:49500"));
    expect(await run("stop", "hello.service")).toEqual({ code: 1, stdout: "", stderr: "cannot reach the api at 127.0.0.1:49500: connection refused (is the api running there?)\n" });
  });
});

describe("unload and destroy", () => {
  it("unload waits until the unit is inactive", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO, { desired: "launched", currentState: "launched", machineId: m1.id })] });
    expect(await run("unload", "hello.service")).toEqual({
      code: 0,
      stdout: "Unit hello.service inactive\n",
      stderr: "Successfully unloaded units [hello.service].\n",
    });
    expect(api.writes()).toEqual([{ method: "setUnitTargetState", name: "hello.service", state: "inactive" }]);
  });

  it("unload of an inactive unit does nothing", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO)] });
    expect(await run("unload", "hello.service")).toEqual({ code: 0, stdout: "", stderr: "Successfully unloaded units [].\n" });
    expect(api.writes()).toEqual([]);
  });

  it("unload of a global unit is triggered", async () => {
    const { run } = setup({ units: [existing("agent.service", GLOBAL, { desired: "launched" })] });
    expect(await run("unload", "agent.service")).toEqual({
      code: 0,
      stdout: "Triggered global unit agent.service unload\n",
      stderr: "Successfully unloaded units [].\n",
    });
  });

  it("destroy removes the units", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO), existing("agent.service", GLOBAL)] });
    expect(await run("destroy", "hello.service", "agent")).toEqual({
      code: 0,
      stdout: "Destroyed hello.service\nDestroyed agent.service\n",
      stderr: "",
    });
    expect(api.units.size).toBe(0);
  });

  it("destroy of an unknown unit fails and destroys nothing", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO)] });
    expect(await run("destroy", "hello.service", "nope.service")).toEqual({ code: 1, stdout: "", stderr: "Unit nope.service not found\n" });
    expect(api.writes()).toEqual([]);
  });

  it("destroy reports a failing call and goes on", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO)] });
    api.failOn("destroyUnit", new Error("deadline exceeded"));
    expect(await run("destroy", "hello.service")).toEqual({ code: 1, stdout: "", stderr: "Error destroying units: deadline exceeded\n" });
  });
});

describe("cat", () => {
  it("prints the unit file as fleet serializes it (a continuation kept as fleet 1.0 keeps it)", async () => {
    const { run } = setup({ units: [existing("hello.service", "# c\n[Unit]\nDescription = Hello World\n[Service]\nExecStart=/bin/sleep\\\n100\n")] });
    expect(await run("cat", "hello")).toEqual({
      code: 0,
      stdout: "[Unit]\nDescription=Hello World\n\n[Service]\nExecStart=/bin/sleep\\\n100\n",
      stderr: "",
    });
  });

  const errors: { argv: string[]; stderr: string }[] = [
    { argv: ["cat"], stderr: "One unit file must be provided\n" },
    { argv: ["cat", "a", "b"], stderr: "One unit file must be provided\n" },
    { argv: ["cat", "nope.service"], stderr: "Unit nope.service not found\n" },
  ];
  for (const c of errors) {
    it(`fails: ${c.argv.join(" ")}`, async () => {
      const { run } = setup();
      expect(await run(...c.argv)).toEqual({ code: 1, stdout: "", stderr: c.stderr });
    });
  }
});

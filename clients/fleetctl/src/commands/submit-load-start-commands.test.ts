// submit, load and start end to end against the in-memory FleetApi: exact stdout, stderr, exit
// codes and the writes each command makes.
import { describe, expect, it } from "vitest";
import { existing, GLOBAL, HELLO, m1, m2, setup, TEMPLATE, unitOf } from "../cli/fleetctl-harness.js";

const LAUNCHED_ON_M1 = "launched on 113f16a7.../10.0.0.3";

describe("start", () => {
  it("submits a unit file, launches it and waits", async () => {
    const { api, run } = setup({ files: { "units/hello.service": HELLO }, convergeAfterPolls: 2, placeOn: m1.id });
    expect(await run("start", "units/hello.service")).toEqual({
      code: 0,
      stdout: `Unit hello.service inactive\nUnit hello.service ${LAUNCHED_ON_M1}\n`,
      stderr: "",
    });
    // One write: the new unit is created launched (fleet created it inactive, then launched it).
    expect(api.writes()).toEqual([{ method: "createUnit", unit: unitOf("hello.service", HELLO, "launched") }]);
    expect(api.closed).toBe(true);
  });

  it("hashes units like fleet does", async () => {
    const { api, run } = setup({ files: { "sleep.service": "[Service]\nExecStart=/bin/sleep 100\n" } });
    await run("start", "--no-block", "sleep.service");
    const created = api.writes()[0];
    expect(created?.method === "createUnit" && created.unit.hash).toBe("1c6fb6f3684bafb0c173d8b8b957ceff031180c1");
  });

  it("--no-block triggers without waiting", async () => {
    const { run } = setup({ files: { "hello.service": HELLO }, convergeAfterPolls: "never" });
    expect(await run("start", "--no-block", "hello.service")).toEqual({
      code: 0,
      stdout: "Unit hello.service inactive\nTriggered unit hello.service start\n",
      stderr: "",
    });
  });

  it("starts a global unit without waiting", async () => {
    const { run } = setup({ files: { "agent.service": GLOBAL }, convergeAfterPolls: "never" });
    expect(await run("start", "agent.service")).toEqual({
      code: 0,
      stdout: "Unit agent.service inactive\nTriggered global unit agent.service start\n",
      stderr: "",
    });
  });

  it("starts an already submitted unit by bare name", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO)], placeOn: m2.id });
    expect(await run("start", "hello")).toEqual({
      code: 0,
      stdout: "Unit hello.service launched on 9a8b7c6d.../10.0.0.4\n",
      stderr: "",
    });
    expect(api.writes()).toEqual([{ method: "setUnitTargetState", name: "hello.service", state: "launched" }]);
  });

  it("does nothing for a unit already launched", async () => {
    const { api, run } = setup({
      units: [existing("hello.service", HELLO, { desired: "launched", currentState: "launched", machineId: m1.id })],
    });
    expect(await run("start", "hello.service")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(api.writes()).toEqual([]);
  });

  it("warns when the local file differs from the submitted unit, and keeps the submitted one", async () => {
    const { api, run } = setup({
      units: [existing("hello.service", HELLO, { desired: "launched", currentState: "launched", machineId: m1.id })],
      files: { "hello.service": HELLO.replace("100", "200") },
    });
    expect(await run("start", "hello.service")).toEqual({
      code: 0,
      stdout: "",
      stderr: "WARNING: Unit hello.service in registry differs from local unit file hello.service. Add --replace to override.\n",
    });
    expect(api.writes()).toEqual([]);
  });

  it("makes an instance from the template file beside it", async () => {
    const { api, run } = setup({ files: { "dir/foo@.service": TEMPLATE }, placeOn: m1.id });
    expect(await run("start", "dir/foo@1.service")).toEqual({
      code: 0,
      stdout: `Unit foo@1.service inactive\nUnit foo@1.service ${LAUNCHED_ON_M1}\n`,
      stderr: "",
    });
    expect(api.writes()[0]).toEqual({ method: "createUnit", unit: unitOf("foo@1.service", TEMPLATE, "launched") });
  });

  it("prefers the instance's own file over its template", async () => {
    const own = "[Service]\nExecStart=/bin/echo one\n";
    const { api, run } = setup({ files: { "dir/foo@1.service": own, "dir/foo@.service": TEMPLATE } });
    await run("start", "--no-block", "dir/foo@1.service");
    expect(api.writes()[0]).toEqual({ method: "createUnit", unit: unitOf("foo@1.service", own, "launched") });
  });

  it("makes an instance from a template submitted earlier", async () => {
    const { api, run } = setup({ units: [existing("foo@.service", TEMPLATE)] });
    await run("start", "--no-block", "foo@2.service");
    expect(api.writes()[0]).toEqual({ method: "createUnit", unit: unitOf("foo@2.service", TEMPLATE, "launched") });
  });

  const failures: { label: string; files?: Record<string, string>; argv: string[]; stderr: string }[] = [
    {
      label: "an instance without a template",
      argv: ["start", "dir/foo@3.service"],
      stderr:
        "Error creating units: failed getting Unit(dir/foo@3.service) from template: unable to find template Unit(foo@.service) in Registry or on filesystem\n",
    },
    {
      label: "a unit that is neither submitted nor on disk",
      argv: ["start", "nope.service"],
      stderr: "Error creating units: unable to find Unit(nope.service) in Registry or on filesystem\n",
    },
    {
      label: "an invalid unit name",
      files: { "dir/a b.service": HELLO },
      argv: ["start", "dir/a b.service"],
      stderr: 'Error creating units: invalid unit name "a b.service": only [a-zA-Z0-9:_.@-] are allowed\n',
    },
    {
      label: "a template of a type that cannot be templated",
      argv: ["start", "foo@1.mount"],
      stderr:
        'Error creating units: invalid unit name "foo@1.mount": templates and instances are only allowed for .path, .service, .socket, .target, .timer units\n',
    },
    {
      label: "a malformed unit file",
      files: { "bad.service": "ExecStart=/bin/true\n" },
      argv: ["start", "bad.service"],
      stderr: 'Error creating units: failed getting Unit(bad.service) from file: line 1: option "ExecStart" appears before any [Section] header\n',
    },
  ];
  for (const c of failures) {
    it(`fails on ${c.label}, changing nothing`, async () => {
      const { api, run } = setup({ files: c.files ?? {} });
      expect(await run(...c.argv)).toEqual({ code: 1, stdout: "", stderr: c.stderr });
      expect(api.writes()).toEqual([]);
    });
  }

  it("stops at the first bad argument, after creating the ones before it", async () => {
    const { api, run } = setup({ files: { "a.service": HELLO } });
    const result = await run("start", "a.service", "nope.service");
    expect(result.code).toBe(1);
    expect(api.writes().map((w) => w.method)).toEqual(["createUnit"]);
  });

  it("starts many units together: each created once, launched, reported in argument order", async () => {
    const names = Array.from({ length: 12 }, (_, i) => `u${i}.service`);
    const { api, run } = setup({ files: Object.fromEntries(names.map((n) => [n, HELLO])), convergeAfterPolls: 2, placeOn: m1.id });
    expect(await run("start", ...names)).toEqual({
      code: 0,
      stdout: [...names.map((n) => `Unit ${n} inactive`), ...names.map((n) => `Unit ${n} ${LAUNCHED_ON_M1}`)].join("\n") + "\n",
      stderr: "",
    });
    expect(api.writes()).toEqual(names.map((n) => ({ method: "createUnit", unit: unitOf(n, HELLO, "launched") })));
    // New units from files are created without asking first, and with more units than
    // LIST_ALL_ABOVE each poll is one listUnits, not a getUnit per unit.
    expect(api.calls.filter((c) => c.method === "listUnits").length).toBeGreaterThan(0);
    expect(api.calls.filter((c) => c.method === "getUnit").length).toBe(0);
    // ... and in one request.
    expect(api.calls.filter((c) => c.method === "createUnitsIfAbsent" || c.method === "createUnit" || c.method === "createUnitIfAbsent").map((c) => c.method)).toEqual(["createUnitsIfAbsent"]);
  });

  it("creates the units one by one when the request for all of them fails", async () => {
    const { api, run } = setup({ files: { "a.service": HELLO, "b.service": HELLO }, placeOn: m1.id });
    api.failOn("createUnitsIfAbsent", new Error("unavailable"));
    const result = await run("start", "a.service", "b.service");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`Unit a.service inactive\nUnit b.service inactive\nUnit a.service ${LAUNCHED_ON_M1}\nUnit b.service ${LAUNCHED_ON_M1}\n`);
    expect(api.writes()).toEqual([
      { method: "createUnit", unit: unitOf("a.service", HELLO, "launched") },
      { method: "createUnit", unit: unitOf("b.service", HELLO, "launched") },
    ]);
  });

  it("asks before creating where creating would change an existing unit (HTTP API v1)", async () => {
    const { api, run } = setup({ files: { "hello.service": HELLO }, placeOn: m1.id, noAgentAccess: true });
    expect(await run("start", "hello.service")).toEqual({ code: 0, stdout: `Unit hello.service inactive\nUnit hello.service ${LAUNCHED_ON_M1}\n`, stderr: "" });
    expect(api.calls.slice(0, 2).map((c) => c.method)).toEqual(["getUnit", "createUnit"]);
  });

  it("starts a submitted unit whose file is beside it: the creation changes nothing, the unit is launched", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO)], files: { "hello.service": HELLO }, placeOn: m1.id });
    expect(await run("start", "hello.service")).toEqual({ code: 0, stdout: `Unit hello.service ${LAUNCHED_ON_M1}\n`, stderr: "" });
    expect(api.writes()).toEqual([{ method: "setUnitTargetState", name: "hello.service", state: "launched" }]);
  });

  it("times out after --block-attempts", async () => {
    const { run } = setup({ files: { "hello.service": HELLO }, convergeAfterPolls: "never" });
    expect(await run("start", "--block-attempts=2", "hello.service")).toEqual({
      code: 1,
      stdout: "Unit hello.service inactive\n",
      stderr:
        "Error waiting for units: timed out waiting for unit hello.service to report state launched\n" +
        "Error waiting for unit states, exit status: timed out waiting for unit hello.service to report state launched\n",
    });
  });

  it("reports progress on stderr while a start takes long", async () => {
    // 420 polls = 200 in the first second + 220 x 50 ms = 12 s: one progress line, at 10 s.
    const { run } = setup({ files: { "hello.service": HELLO }, convergeAfterPolls: 420, placeOn: m1.id });
    expect(await run("start", "hello.service")).toEqual({
      code: 0,
      stdout: `Unit hello.service inactive\nUnit hello.service ${LAUNCHED_ON_M1}\n`,
      stderr: "Waiting for unit hello.service to be launched: currently inactive, not scheduled yet\n",
    });
  });

  it("refuses --sign", async () => {
    const { api, run } = setup({ files: { "hello.service": HELLO } });
    expect(await run("start", "--sign", "hello.service")).toEqual({
      code: 2,
      stdout: "",
      stderr: "WARNING: The signed/verified units feature is DEPRECATED and cannot be used.\n",
    });
    expect(api.writes()).toEqual([]);
  });
});

describe("submit and load", () => {
  it("submit creates the unit inactive", async () => {
    const { api, run } = setup({ files: { "hello.service": HELLO } });
    expect(await run("submit", "hello.service")).toEqual({ code: 0, stdout: "Unit hello.service inactive\n", stderr: "" });
    expect(api.writes().map((w) => w.method)).toEqual(["createUnit"]);
  });

  it("submit is idempotent", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO)], files: { "hello.service": HELLO } });
    expect(await run("submit", "hello.service")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(api.writes()).toEqual([]);
  });

  it("load waits until the unit is loaded on a machine", async () => {
    const { api, run } = setup({ files: { "hello.service": HELLO }, placeOn: m1.id, convergeAfterPolls: 1 });
    expect(await run("load", "hello.service")).toEqual({
      code: 0,
      stdout: "Unit hello.service inactive\nUnit hello.service loaded on 113f16a7.../10.0.0.3\n",
      stderr: "",
    });
    expect(api.writes()).toEqual([{ method: "createUnit", unit: unitOf("hello.service", HELLO, "loaded") }]);
  });

  it("load of a global unit is triggered", async () => {
    const { run } = setup({ units: [existing("agent.service", GLOBAL)] });
    expect(await run("load", "agent.service")).toEqual({ code: 0, stdout: "Triggered global unit agent.service load\n", stderr: "" });
  });

  it("no units given", async () => {
    const { run } = setup();
    expect(await run("submit")).toEqual({ code: 0, stdout: "", stderr: "No units given\n" });
    expect(await run("load")).toEqual({ code: 0, stdout: "", stderr: "No units given\n" });
  });
});

// fleetctl's commands end to end against the in-memory FleetApi: exact stdout, stderr, exit
// codes and the writes each command makes.
import { parseUnitFile, unitHash, type UnitState } from "@fleet/domain";
import { describe, expect, it } from "vitest";
import type { UnitView } from "../api/fleet-api.js";
import { existing, GLOBAL, HELLO, m1, m2, setup, TEMPLATE, unitOf } from "./fleetctl-harness.js";

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
    expect(await run("stop", "hello.service")).toEqual({ code: 1, stdout: "", stderr: "connect ECONNREFUSED 127.0.0.1:49500\n" });
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

describe("list commands", () => {
  const states: UnitState[] = [
    { name: "world.service", hash: "abcdef0123", machineId: m2.id, loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" },
    { name: "hello.service", hash: "0123456789", machineId: m1.id, loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" },
  ];
  const units: UnitView[] = [
    existing("hello.service", HELLO, { desired: "launched", currentState: "launched", machineId: m1.id }),
    existing("agent.service", GLOBAL, { desired: "launched" }),
  ];

  const cases: { label: string; argv: string[]; stdout: string }[] = [
    {
      label: "list-machines",
      argv: ["list-machines"],
      stdout: "MACHINE\t\tIP\t\tMETADATA\n113f16a7...\t10.0.0.3\tregion=us-west\n9a8b7c6d...\t10.0.0.4\t-\n",
    },
    {
      label: "list-machines -l --no-legend",
      argv: ["list-machines", "-l", "--no-legend"],
      stdout: `${m1.id}\t10.0.0.3\tregion=us-west\n${m2.id}\t10.0.0.4\t-\n`,
    },
    {
      label: "list-units",
      argv: ["list-units"],
      stdout:
        "UNIT\t\tMACHINE\t\t\tACTIVE\tSUB\n" +
        "hello.service\t113f16a7.../10.0.0.3\tactive\trunning\n" +
        "world.service\t9a8b7c6d.../10.0.0.4\tactive\trunning\n",
    },
    {
      label: "list-units --fields=unit,hash,load",
      argv: ["list-units", "--fields=unit,hash,load"],
      stdout: "UNIT\t\tHASH\tLOAD\nhello.service\t0123456\tloaded\nworld.service\tabcdef0\tloaded\n",
    },
    {
      label: "list-unit-files",
      argv: ["list-unit-files"],
      stdout:
        "UNIT\t\tHASH\tDSTATE\t\tSTATE\t\tTARGET\n" +
        `agent.service\t${unitHash(parseUnitFile(GLOBAL)).slice(0, 7)}\tlaunched\t-\t\tglobal\n` +
        `hello.service\t${unitHash(parseUnitFile(HELLO)).slice(0, 7)}\tlaunched\tlaunched\t113f16a7.../10.0.0.3\n`,
    },
    {
      label: "list-unit-files --fields=unit,desc,global --no-legend",
      argv: ["list-unit-files", "--fields=unit,desc,global", "--no-legend"],
      stdout: "agent.service\t-\t\ttrue\nhello.service\tHello World\tfalse\n",
    },
  ];
  for (const c of cases) {
    it(c.label, async () => {
      const { run } = setup({ units, states });
      expect(await run(...c.argv)).toEqual({ code: 0, stdout: c.stdout, stderr: "" });
    });
  }

  it("an empty cluster prints only the legend", async () => {
    const { run } = setup({ machines: [] });
    expect(await run("list-units")).toEqual({ code: 0, stdout: "UNIT\tMACHINE\tACTIVE\tSUB\n", stderr: "" });
  });

  const errors: { label: string; argv: string[]; stderr: string; fail?: "listMachines" | "listUnitStates" | "listUnits" }[] = [
    { label: "unknown field", argv: ["list-units", "--fields=unit,bogus"], stderr: 'Invalid key in output format: "bogus"\n' },
    { label: "empty fields", argv: ["list-machines", "--fields="], stderr: "Must define output format\n" },
    {
      label: "machines unavailable",
      argv: ["list-machines"],
      fail: "listMachines",
      stderr: "Error retrieving list of active machines from fleet API (unavailable)\n",
    },
    {
      label: "unit states unavailable",
      argv: ["list-units"],
      fail: "listUnitStates",
      stderr: "Error retrieving list of units from repository: unavailable\n",
    },
    {
      label: "units unavailable",
      argv: ["list-unit-files"],
      fail: "listUnits",
      stderr: "Error retrieving list of units from repository: unavailable\n",
    },
  ];
  for (const c of errors) {
    it(`fails: ${c.label}`, async () => {
      const { api, run } = setup({ units, states });
      if (c.fail) api.failOn(c.fail, new Error("unavailable"));
      expect(await run(...c.argv)).toEqual({ code: 1, stdout: "", stderr: c.stderr });
    });
  }

  it("warns that tmachine is deprecated", async () => {
    const { run } = setup({ units });
    const result = await run("list-unit-files", "--fields=unit,tmachine");
    expect(result.stderr).toBe('WARNING: The "tmachine" field is deprecated. Use "target" instead\n');
    expect(result.code).toBe(0);
  });
});

describe("top level", () => {
  const UNKNOWN = {
    stdout: "",
    stderr: 'Error: unknown command "frob" for "fleetctl"\nRun \'fleetctl --help\' for usage.\ncannot execute cmdFleet: unknown command "frob" for "fleetctl"\n',
  };
  it("version", async () => {
    const { run, connections } = setup();
    expect(await run("version")).toEqual({ code: 0, stdout: "fleetctl version 0.1.0\n", stderr: "" });
    expect(await run("--version")).toEqual({ code: 0, stdout: "fleetctl version 0.1.0\n", stderr: "" });
    expect(connections).toEqual([]);
  });

  it("help lists every command", async () => {
    const { run } = setup();
    for (const argv of [[], ["help"], ["--help"], ["-h"]]) {
      const result = await run(...argv);
      expect(result.code).toBe(0);
      for (const name of ["cat", "destroy", "list-machines", "list-unit-files", "list-units", "load", "start", "stop", "submit", "unload"]) {
        expect(result.stdout).toMatch(new RegExp(`^\\t${name}\\t`, "m"));
      }
    }
  });

  it("help for a command shows its flags", async () => {
    const { run } = setup();
    for (const argv of [["help", "start"], ["start", "--help"]]) {
      const result = await run(...argv);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("\tfleetctl start [--no-block|--block-attempts=N] UNIT...\n");
      expect(result.stdout).toContain("      --block-attempts int  Wait until the units are launched");
      expect(result.stdout).toContain("      --no-block            Do not wait");
    }
    const unknown = await run("help", "frob");
    expect(unknown).toMatchObject({ code: 1, stderr: "Unknown help topic [`frob`]." });
    expect(unknown.stdout).toMatch(/^NAME:\n\tfleetctl - /);
  });

  it("unknown commands and flags exit 2", async () => {
    const { run } = setup();
    expect(await run("frob")).toEqual({ code: 2, ...UNKNOWN });
    const flag = await run("list-units", "--frob");
    expect(flag).toMatchObject({ code: 2, stderr: "Error: unknown flag: --frob\n\ncannot execute cmdFleet: unknown flag: --frob\n" });
    // cobra printed the command's usage on stdout.
    expect(flag.stdout).toMatch(/^NAME:\n\tlist-units - /);
  });

  it("connects to the default endpoint with fleet's 3 s request timeout", async () => {
    const { run, connections } = setup();
    await run("list-machines");
    expect(connections.map((c) => [c.endpoint, c.timeoutMs])).toEqual([[{ kind: "grpc", address: "127.0.0.1:49500" }, 3000]]);
  });

  it("takes the endpoint and timeout from flags or FLEETCTL_ variables", async () => {
    const fromEnv = setup({ env: { FLEETCTL_ENDPOINT: "http://10.0.0.9:49500", FLEETCTL_REQUEST_TIMEOUT: "0.5" } });
    await fromEnv.run("list-machines");
    expect(fromEnv.connections.map((c) => [c.endpoint, c.timeoutMs])).toEqual([[{ kind: "http", url: "http://10.0.0.9:49500" }, 500]]);
    const fromFlags = setup({ env: { FLEETCTL_ENDPOINT: "ignored:1" } });
    await fromFlags.run("--endpoint", "unix:///run/fleet/api.sock", "list-machines", "--request-timeout=10");
    expect(fromFlags.connections.map((c) => [c.endpoint, c.timeoutMs])).toEqual([[{ kind: "http-unix", socketPath: "/run/fleet/api.sock" }, 10_000]]);
  });

  it("accepts fleet's ssh and etcd flags", async () => {
    const { run } = setup();
    expect((await run("--strict-host-key-checking=false", "--driver=etcd", "--etcd-key-prefix=/x/", "list-machines", "--no-legend")).stderr).toBe("");
  });

  it("--tunnel (or FLEETCTL_TUNNEL) reaches the endpoint through an ssh port forward, closed at the end", async () => {
    const { run, connections, tunnels } = setup({ env: { FLEETCTL_TUNNEL: "10.0.0.1" } });
    expect((await run("--endpoint", "unix:///var/run/fleet.sock", "list-machines", "--no-legend")).code).toBe(0);
    expect(tunnels).toEqual([{ tunnel: "10.0.0.1", target: "/var/run/fleet.sock", closed: true }]);
    expect(connections.map((c) => c.endpoint)).toEqual([{ kind: "http", url: "http://127.0.0.1:4000" }]);
  });

  it("passes --ca-file, --cert-file and --key-file to the client", async () => {
    const { run, connections } = setup();
    await run("--endpoint=https://fleet.example", "--ca-file=/ca.pem", "--cert-file=/c.pem", "--key-file=/k.pem", "list-units");
    expect(connections[0]?.options.tls).toEqual({ caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem" });
  });

  it("refuses an endpoint it cannot read", async () => {
    const { run } = setup();
    expect(await run("--endpoint=unix://relative.sock", "list-units")).toEqual({
      code: 1,
      stdout: "",
      stderr: 'Unable to initialize client: invalid endpoint "unix://relative.sock": expected unix:///absolute/path\n',
    });
  });

  it("rejects a non-positive request timeout", async () => {
    const { run } = setup();
    expect(await run("--request-timeout=0", "list-units")).toEqual({
      code: 2,
      stdout: "",
      stderr: "invalid --request-timeout 0: must be a positive number of seconds\n",
    });
  });
});

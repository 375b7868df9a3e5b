// Golden tests: fleetctl's output and exit codes where they must be fleet 1.0's byte for byte.
// The expected values are fleet v1.0.0's (fleetctl/*.go at tag v1.0.0: the format strings,
// which of stdout/stderr they go to, and the exit codes), as the original fleetctl printed
// them against this api (issue 9, item 4).
import { describe, expect, it } from "vitest";
import { existing, GLOBAL, HELLO, m1, setup, withoutLogTimes } from "./fleetctl-harness.js";

const ON_M1 = "on 113f16a7.../10.0.0.3";
const running = (name: string) => existing(name, HELLO, { desired: "launched", currentState: "launched", machineId: m1.id });
const loaded = (name: string) => existing(name, HELLO, { desired: "loaded", currentState: "loaded", machineId: m1.id });
const timedOut = (name: string, state: string) => `timed out waiting for unit ${name} to report state ${state}`;

describe("stop (stop.go)", () => {
  it('ends with "Successfully stopped units [a b]." on stderr, the list as Go prints a []string', async () => {
    const { run } = setup({ units: [running("a.service"), running("b.service")] });
    expect(await run("stop", "a.service", "b.service")).toEqual({
      code: 0,
      stdout: `Unit a.service loaded ${ON_M1}\nUnit b.service loaded ${ON_M1}\n`,
      stderr: "Successfully stopped units [a.service b.service].\n",
    });
  });

  it('says "[]" when there was nothing to stop, and with --no-block after "Triggered"', async () => {
    const { run } = setup({ units: [loaded("a.service"), running("b.service")] });
    expect(await run("stop", "a.service")).toEqual({ code: 0, stdout: "", stderr: "Successfully stopped units [].\n" });
    expect(await run("stop", "--no-block", "b.service")).toEqual({
      code: 0,
      stdout: "Triggered unit b.service stop\n",
      stderr: "Successfully stopped units [b.service].\n",
    });
  });

  it("a timeout: the first unit's error, then the failure naming every unit, exit 1, after N x 2 s", async () => {
    const { run, elapsed } = setup({ units: [running("a.service"), running("b.service")], convergeAfterPolls: "never" });
    expect(await run("stop", "--block-attempts=3", "a.service", "b.service")).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error waiting for units: ${timedOut("a.service", "loaded")}\nFailed to stop units [a.service b.service]. err: ${timedOut("a.service", "loaded")}\n`,
    });
    expect(elapsed()).toBe(6_000);
  });
});

describe("unload (unload.go)", () => {
  it('ends with "Successfully unloaded units [x]." on stderr; "[]" when nothing was to do', async () => {
    const { run } = setup({ units: [running("a.service"), existing("idle.service", HELLO), existing("g.service", GLOBAL, { desired: "launched" })] });
    expect(await run("unload", "a.service")).toEqual({ code: 0, stdout: "Unit a.service inactive\n", stderr: "Successfully unloaded units [a.service].\n" });
    expect(await run("unload", "idle.service")).toEqual({ code: 0, stdout: "", stderr: "Successfully unloaded units [].\n" });
    expect(await run("unload", "g.service")).toEqual({ code: 0, stdout: "Triggered global unit g.service unload\n", stderr: "Successfully unloaded units [].\n" });
  });

  it("a timeout fails with fleet's two lines", async () => {
    const { run } = setup({ units: [running("a.service")], convergeAfterPolls: "never" });
    expect(await run("unload", "--block-attempts=1", "a.service")).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error waiting for units: ${timedOut("a.service", "inactive")}\nFailed to unload units [a.service]. err: ${timedOut("a.service", "inactive")}\n`,
    });
  });
});

describe("start and load (start.go, load.go, fleetctl.go)", () => {
  it("--block-attempts=N gives up after N x 2 s with fleet's second line", async () => {
    const { run, elapsed } = setup({ units: [existing("a.service", HELLO)], convergeAfterPolls: "never" });
    expect(await run("start", "--block-attempts=3", "a.service")).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error waiting for units: ${timedOut("a.service", "launched")}\nError waiting for unit states, exit status: ${timedOut("a.service", "launched")}\n`,
    });
    expect(elapsed()).toBe(6_000);
    expect(await run("load", "--block-attempts=1", "a.service")).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error waiting for units: ${timedOut("a.service", "loaded")}\nError waiting for unit states, exit status: ${timedOut("a.service", "loaded")}\n`,
    });
  });

  it("a unit whose process exits at once (ExecStart=/bin/false): launched, then not active within 2 s, exit 1", async () => {
    const { run, elapsed } = setup({ files: { "false.service": "[Service]\nExecStart=/bin/false\n" }, activeStates: { "false.service": "failed" } });
    const error = "Failed to find an active unit false.service within 2s, err: Failed to fetch states within 2s";
    expect(await run("start", "false.service")).toEqual({
      code: 1,
      stdout: `Unit false.service inactive\nUnit false.service launched ${ON_M1}\n`,
      stderr: `Error waiting for units: ${error}\nError waiting for systemd unit states, err: ${error}\n`,
    });
    expect(elapsed()).toBe(2_000);
  });

  it("a unit systemd runs passes the check at its first look, 250 ms after launched", async () => {
    const { api, run, elapsed } = setup({ files: { "a.service": HELLO } });
    expect(await run("start", "a.service")).toEqual({ code: 0, stdout: `Unit a.service inactive\nUnit a.service launched ${ON_M1}\n`, stderr: "" });
    expect(elapsed()).toBe(250);
    expect(api.calls.filter((c) => c.method === "listUnitStates")).toEqual([{ method: "listUnitStates", unitNames: ["a.service"] }]);
  });

  it("the check applies only to the units this start launched: not with --no-block, not to global units, not to a unit already launched", async () => {
    const { api, run } = setup({
      units: [running("up.service"), existing("g.service", GLOBAL)],
      files: { "b.service": HELLO },
      activeStates: { "b.service": "failed", "up.service": "failed" },
    });
    expect(await run("start", "--no-block", "b.service")).toEqual({ code: 0, stdout: "Unit b.service inactive\nTriggered unit b.service start\n", stderr: "" });
    expect(await run("start", "g.service", "up.service")).toEqual({ code: 0, stdout: "Triggered global unit g.service start\n", stderr: "" });
    expect(api.calls.filter((c) => c.method === "listUnitStates")).toEqual([]);
  });
});

describe("status (status.go)", () => {
  it('an unplaced unit: "does not appear to be loaded.", then our reason, exit 1', async () => {
    const { run } = setup({ units: [existing("nowhere.service", HELLO, { desired: "launched", reason: "no machine matches MachineMetadata region=north" })] });
    expect(await run("status", "nowhere.service")).toEqual({
      code: 1,
      stdout: "",
      stderr: "Unit nowhere.service does not appear to be loaded.\nNot scheduled: no machine matches MachineMetadata region=north\n",
    });
  });

  it("a global unit: nothing at all, exit 0; the blank line before a later unit stays", async () => {
    const { run } = setup({ units: [existing("g.service", GLOBAL, { desired: "launched" }), running("a.service")] });
    expect(await run("status", "g.service")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await run("status", "g.service", "a.service")).toEqual({ code: 0, stdout: "\n● a.service\n", stderr: "" });
  });

  it("a unit that does not exist, and a failing read", async () => {
    const { api, run } = setup();
    expect(await run("status", "nope.service")).toEqual({ code: 1, stdout: "", stderr: "Unit nope.service does not exist.\n" });
    api.failOn("getUnit", new Error("deadline exceeded"));
    expect(await run("status", "a.service")).toEqual({ code: 1, stdout: "", stderr: "Error retrieving unit: deadline exceeded\n" });
  });
});

describe("restart (restart.go)", () => {
  it("an inactive unit: said on stderr, passed over, exit 0; the next unit is still restarted", async () => {
    const { run } = setup({ units: [existing("idle.service", HELLO), running("a.service")] });
    expect(withoutLogTimes(await run("restart", "idle.service", "a.service"))).toEqual({
      code: 0,
      stdout: `Unit a.service loaded ${ON_M1}\nUnit a.service launched ${ON_M1}\n`,
      stderr: "Unable to restart unit idle.service in state inactive\n<time> INFO restart.go:100: Unit(a.service) was restarted.\n",
    });
  });

  it("no units: fleet's line, exit 0", async () => {
    const { run } = setup();
    expect(await run("restart")).toEqual({ code: 0, stdout: "", stderr: "No units given\n" });
  });

  it("fleet's log lines carry the local date and time as Go's log package writes them", async () => {
    const { run } = setup({ units: [loaded("a.service")] });
    const r = await run("restart", "a.service");
    expect(r.stderr).toMatch(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} INFO restart\.go:82: Unit\(a\.service\) already loaded, starting\.\n$/);
  });
});

describe("version (version.go, fleetctl.go)", () => {
  it('"fleetctl version X" on stdout for version, --version and -v', async () => {
    const { run } = setup();
    for (const argv of [["version"], ["--version"], ["-v"]]) {
      expect(await run(...argv)).toEqual({ code: 0, stdout: "fleetctl version 0.1.0\n", stderr: "" });
    }
  });
});

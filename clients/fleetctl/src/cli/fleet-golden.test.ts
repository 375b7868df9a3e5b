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

describe("the command line (cobra and pflag in fleet 1.0)", () => {
  it("a command may be named by a prefix that only it has", async () => {
    const { run } = setup({ units: [running("a.service")] });
    expect(await run("list-unit-f", "--no-legend", "--fields=unit")).toEqual({ code: 0, stdout: "a.service\n", stderr: "" });
    expect(await run("stat", "a.service")).toEqual({ code: 0, stdout: "● a.service\n", stderr: "" });
  });

  it("an unknown or ambiguous command: cobra's error with its suggestions, then fleetctl's line (exit 2 here, 0 in fleet)", async () => {
    const { run } = setup();
    const error = 'unknown command "st" for "fleetctl"\n\nDid you mean this?\n\tcat\n\tssh\n\tstart\n\tstatus\n\tstop\n';
    expect(await run("st", "a.service")).toEqual({
      code: 2,
      stdout: "",
      stderr: `Error: ${error}\nRun 'fleetctl --help' for usage.\ncannot execute cmdFleet: ${error}\n`,
    });
  });

  it("a flag error: pflag's words, the command's usage on stdout (exit 2 here, 0 in fleet)", async () => {
    const { run } = setup();
    const r = await run("stop", "--block-attempts=x", "a.service");
    const error = 'invalid argument "x" for --block-attempts=x: strconv.ParseInt: parsing "x": invalid syntax';
    expect(r).toMatchObject({ code: 2, stderr: `Error: ${error}\n\ncannot execute cmdFleet: ${error}\n` });
    expect(r.stdout).toMatch(/^NAME:\n\tstop - Instruct systemd to stop one or more units in the cluster\.\n\nUSAGE:\n\tfleetctl stop /);
  });

  it("several endpoints: fleet's warning (its log line) and the first is used", async () => {
    const { run, connections } = setup();
    const r = withoutLogTimes(await run("--endpoint", "http://10.0.0.1:49501,http://10.0.0.2:49501", "list-machines", "--no-legend"));
    expect(r.stderr).toBe("<time> WARN fleetctl.go:332: multiple endpoints provided but only the first (http://10.0.0.1:49501) is used\n");
    expect(connections.map((c) => c.endpoint)).toEqual([{ kind: "http", url: "http://10.0.0.1:49501" }]);
  });

  it("verify: cobra's deprecation line, then fleet's warning, exit 2", async () => {
    const { run } = setup();
    expect(await run("verify", "a.service")).toEqual({
      code: 2,
      stdout: "",
      stderr: 'Command "verify" is deprecated, DEPRECATED - No longer works\nWARNING: The signed/verified units feature is DEPRECATED and cannot be used.\n',
    });
  });

  it("help for a command: fleet 1.0's template and texts", async () => {
    const { run } = setup();
    const r = await run("help", "status");
    expect(r.code).toBe(0);
    expect(r.stdout.slice(0, r.stdout.indexOf("GLOBAL OPTIONS:"))).toBe(
      [
        "NAME:",
        "\tstatus - Output the status of one or more units in the cluster",
        "",
        "USAGE:",
        "\tfleetctl status [--ssh-port=N] UNIT...",
        "",
        "DESCRIPTION:",
        "\tOutput the status of one or more units currently running in the cluster.",
        "\tSupports glob matching of units in the current working directory or matches",
        "\tpreviously started units.",
        "\t",
        "\tShow status of a single unit:",
        "\t\tfleetctl status foo.service",
        "\t",
        "\tShow status of an entire directory with glob matching:",
        "\tfleetctl status myservice/*",
        "\t",
        "\tThis command does not work with global units.",
        "",
        "OPTIONS:",
        // Ours beside fleet's: --output json (docs/fleetctl.md).
        '  -o, --output string  Output format: table (fleet\'s) or json (stable field names, see docs/fleetctl.md) (default "table")',
        "      --ssh-port int   Connect to remote hosts over SSH using this TCP port. (default 22)",
        "",
        "",
      ].join("\n"),
    );
    expect(r.stdout).toMatch(/\n {6}--request-timeout float {5}Amount of time in seconds to allow a single request before considering it failed\. \(default 3\)\n/);
    expect(r.stdout.endsWith("\n\n")).toBe(true);
  });

  it("help lists the commands as fleet 1.0 did (and ours: audit, completion, token), cobra's help and the version command among them", async () => {
    const { run } = setup();
    const r = await run("help");
    expect(r.stdout.slice(0, r.stdout.indexOf("OPTIONS:"))).toBe(
      [
        "NAME:",
        "\tfleetctl - fleetctl is a command-line interface to fleet, the cluster-wide CoreOS init system.",
        "",
        "USAGE:",
        "\tfleetctl",
        "",
        "VERSION:",
        "\t0.1.0",
        "",
        "COMMANDS:",
        "\taudit\t\tShow the changes made through the api: who, what, when (admin)",
        "\tcat\t\tOutput the contents of a submitted unit",
        "\tcompletion\tOutput shell completion code for bash, zsh or fish",
        "\tdestroy\t\tDestroy one or more units in the cluster",
        "\tfd-forward\tProxy stdin and stdout to a unix domain socket",
        "\thelp\t\tHelp about any command",
        "\tjournal\t\tPrint the journal of a unit in the cluster to stdout",
        "\tlist-machines\tEnumerate the current hosts in the cluster",
        "\tlist-unit-files\tList the units that exist in the cluster.",
        "\tlist-units\tList the current state of units in the cluster",
        "\tload\t\tSchedule one or more units in the cluster, first submitting them if necessary.",
        "\trestart\t\tInstruct systemd to rolling restart one or more units in the cluster.",
        "\tssh\t\tOpen interactive shell on a machine in the cluster",
        "\tstart\t\tInstruct systemd to start one or more units in the cluster, first submitting and loading if necessary.",
        "\tstatus\t\tOutput the status of one or more units in the cluster",
        "\tstop\t\tInstruct systemd to stop one or more units in the cluster.",
        "\tsubmit\t\tUpload one or more units to the cluster without starting them",
        "\ttoken\t\tCreate, list and revoke API tokens (admin)",
        "\tunload\t\tUnschedule one or more units in the cluster.",
        "\tverify\t\t",
        "\tversion\t\tPrint the version and exit",
        "",
        "",
      ].join("\n"),
    );
  });
});

// restart, status, journal, ssh, fd-forward, verify and --replace against the in-memory API:
// exact output, exit codes, the writes, and the ssh command lines fleetctl would run.
import { unresponsiveMachineReason } from "@fleet/domain";
import { describe, expect, it } from "vitest";
import { existing, GLOBAL, HELLO, m1, m2, setup, unitOf, withoutLogTimes } from "./fleetctl-harness.js";

const ON_M1 = "on 113f16a7.../10.0.0.3";
const running = (name: string, text = HELLO) => existing(name, text, { desired: "launched", currentState: "launched", machineId: m1.id });
/** ssh's options with fleet's host key checking against `file` (ssh.ts). */
const checked = (file: string) => ["-o", "ConnectTimeout=10", "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${file}`, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "FingerprintHash=md5"];
const SSH_TO_M1 = ["ssh", ...checked("~/.fleetctl/known_hosts"), "-p", "22", "-l", "core"];

describe("restart", () => {
  it("stops and starts each unit in turn, waiting for each", async () => {
    const { api, run } = setup({ units: [running("a.service"), running("b.service")], placeOn: m1.id });
    expect(withoutLogTimes(await run("restart", "a.service", "b"))).toEqual({
      code: 0,
      stdout: [`Unit a.service loaded ${ON_M1}`, `Unit a.service launched ${ON_M1}`, `Unit b.service loaded ${ON_M1}`, `Unit b.service launched ${ON_M1}`, ""].join("\n"),
      // fleet's log lines (log.Infof), on stderr.
      stderr: "<time> INFO restart.go:100: Unit(a.service) was restarted.\n<time> INFO restart.go:100: Unit(b.service) was restarted.\n",
    });
    expect(api.writes().map((w) => (w.method === "setUnitTargetState" ? `${w.name}:${w.state}` : w.method))).toEqual([
      "a.service:loaded",
      "a.service:launched",
      "b.service:loaded",
      "b.service:launched",
    ]);
  });

  it("starts a unit that is stopped", async () => {
    const { run } = setup({ units: [existing("a.service", HELLO, { desired: "loaded", currentState: "loaded", machineId: m1.id })], placeOn: m1.id });
    expect(withoutLogTimes(await run("restart", "a.service"))).toEqual({
      code: 0,
      stdout: `Unit a.service launched ${ON_M1}\n`,
      stderr: "<time> INFO restart.go:82: Unit(a.service) already loaded, starting.\n",
    });
  });

  it("passes over an inactive unit (exit 0, as fleet), and refuses unknown units", async () => {
    const { api, run } = setup({ units: [existing("a.service", HELLO)] });
    expect(await run("restart", "a.service")).toEqual({ code: 0, stdout: "", stderr: "Unable to restart unit a.service in state inactive\n" });
    expect(await run("restart", "nope.service")).toEqual({ code: 1, stdout: "", stderr: "Unit nope.service not found\n" });
    expect(await run("restart")).toEqual({ code: 0, stdout: "", stderr: "No units given\n" });
    expect(api.writes()).toEqual([]);
  });

  it("gives up after --block-attempts and does not go on to the next unit", async () => {
    const { api, run } = setup({ units: [running("a.service"), running("b.service")], convergeAfterPolls: "never" });
    expect(await run("restart", "--block-attempts=2", "a.service", "b.service")).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "Error waiting for units: timed out waiting for unit a.service to report state loaded\n" +
        "Error waiting for unit states, exit status: timed out waiting for unit a.service to report state loaded\n",
    });
    expect(api.writes()).toEqual([{ method: "setUnitTargetState", name: "a.service", state: "loaded" }]);
  });
});

describe("status", () => {
  it("prints systemctl status from the unit's machine, through the api, with its exit code", async () => {
    const { run, ran } = setup({
      units: [running("a.service"), running("b.service")],
      statuses: { "a.service": { machineId: m1.id, text: "● a.service - A\n   Active: active (running)\n", exitCode: 0 } },
    });
    expect(await run("status", "a.service", "b")).toEqual({
      code: 0,
      stdout: "● a.service - A\n   Active: active (running)\n\n● b.service\n",
      stderr: "",
    });
    expect(ran).toEqual([]);
  });

  it("stops at the first unit that is not fine", async () => {
    const { run } = setup({
      units: [running("a.service"), running("b.service")],
      statuses: { "a.service": { machineId: m1.id, text: "● a.service\n   Active: failed\n", exitCode: 3 } },
    });
    expect(await run("status", "a.service", "b.service")).toEqual({ code: 3, stdout: "● a.service\n   Active: failed\n", stderr: "" });
  });

  it("says so for units that do not exist or are not loaded; passes over global units in silence", async () => {
    const { run } = setup({ units: [existing("idle.service", HELLO), existing("g.service", GLOBAL, { desired: "launched" })] });
    expect(await run("status", "nope.service")).toEqual({ code: 1, stdout: "", stderr: "Unit nope.service does not exist.\n" });
    expect(await run("status", "idle.service")).toEqual({ code: 1, stdout: "", stderr: "Unit idle.service does not appear to be loaded.\n" });
    expect(await run("status", "g.service")).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("says that a unit stays on a machine that does not respond, and why", async () => {
    const reason = unresponsiveMachineReason(m2.id, "2 of 3 machines lost contact at once");
    const { run } = setup({ units: [existing("held.service", HELLO, { desired: "launched", machineId: m2.id, reason })] });
    expect(await run("status", "held.service")).toEqual({
      code: 1,
      stdout: "",
      stderr: `Unit held.service does not appear to be loaded.\nHeld: ${reason}\n`,
    });
  });

  it("says why a unit that could not be placed is not loaded", async () => {
    const { run } = setup({ units: [existing("nowhere.service", HELLO, { desired: "launched", reason: "no machine matches MachineMetadata region=north" })] });
    expect(await run("status", "nowhere.service")).toEqual({
      code: 1,
      stdout: "",
      stderr: "Unit nowhere.service does not appear to be loaded.\nNot scheduled: no machine matches MachineMetadata region=north\n",
    });
    expect(await run("list-unit-files", "--fields=unit,reason", "--no-legend")).toEqual({
      code: 0,
      stdout: "nowhere.service\tno machine matches MachineMetadata region=north\n",
      stderr: "",
    });
  });

  it("uses ssh to the machine when the endpoint cannot stream it (HTTP API v1)", async () => {
    const { run, ran } = setup({ units: [running("a@x.service")], noAgentAccess: true, exitCodes: [3] });
    expect((await run("status", "--ssh-port=2222", "a@x.service")).code).toBe(3);
    expect(ran).toEqual([
      ["ssh", ...checked("~/.fleetctl/known_hosts"), "-p", "2222", "-l", "core", "-T", "10.0.0.3", "--", "systemctl status -l a@x.service"],
    ]);
  });
});

describe("journal", () => {
  it("prints the last lines through the api, passing --lines and --output", async () => {
    const { api, run } = setup({ units: [running("a.service")], journals: { "a.service": ["line 1\n", "line 2\n"] } });
    expect(await run("journal", "--lines=2", "--output=cat", "a.service")).toEqual({ code: 0, stdout: "line 1\nline 2\n", stderr: "" });
    expect(api.calls.at(-1)).toEqual({ method: "journal", name: "a.service", options: { lines: 2, follow: false, output: "cat" } });
  });

  it("-f follows until interrupted, then exits 0", async () => {
    const { api, run, interrupt } = setup({ units: [running("a.service")], journals: { "a.service": ["old\n"] } });
    const pending = run("journal", "-f", "a.service");
    await new Promise((r) => setTimeout(r, 10));
    expect(api.push("a.service", "new line\n")).toBe(true);
    interrupt();
    expect(await pending).toEqual({ code: 0, stdout: "old\nnew line\n", stderr: "" });
    expect(api.calls.at(-1)).toMatchObject({ method: "journal", options: { lines: 10, follow: true, output: "short" } });
  });

  it("wants exactly one unit that runs", async () => {
    const { run } = setup({ units: [existing("idle.service", HELLO), existing("g.service", GLOBAL, { desired: "launched" })] });
    expect(await run("journal")).toEqual({ code: 1, stdout: "", stderr: "One unit file must be provided.\n" });
    expect(await run("journal", "a.service", "b.service")).toEqual({ code: 1, stdout: "", stderr: "One unit file must be provided.\n" });
    expect(await run("journal", "nope")).toEqual({ code: 1, stdout: "", stderr: "Unit nope.service does not exist.\n" });
    expect(await run("journal", "idle.service")).toEqual({ code: 1, stdout: "", stderr: "Unit idle.service does not appear to be running.\n" });
    expect(await run("journal", "g.service")).toEqual({ code: 1, stdout: "", stderr: "Unable to retrieve journal of global unit g.service.\n" });
  });

  it("runs journalctl over ssh when the endpoint cannot stream it, with --sudo and -f", async () => {
    const { run, ran } = setup({ units: [running("a.service")], noAgentAccess: true });
    expect((await run("journal", "--sudo", "-f", "--lines", "5", "a.service")).code).toBe(0);
    expect(ran).toEqual([[...SSH_TO_M1, "-T", "10.0.0.3", "--", "sudo journalctl --unit a.service --no-pager -n 5 --output short -f"]]);
  });
});

describe("ssh", () => {
  it("opens a shell on a machine named by an id prefix", async () => {
    const { run, ran } = setup();
    expect((await run("ssh", "9a8b")).code).toBe(0);
    expect(ran).toEqual([[...SSH_TO_M1, "-t", "10.0.0.4"]]);
  });

  it("runs a command on the machine of a unit, with -A, --ssh-port, --ssh-username and the tunnel as jump host", async () => {
    const { run, ran } = setup({ units: [running("a.service")], exitCodes: [7] });
    const r = await run("--ssh-username=admin", "--tunnel=bastion", "--strict-host-key-checking=false", "ssh", "-A", "--ssh-port=2200", "--unit", "a", "--", "ls", "-la");
    expect(r.code).toBe(7);
    expect(ran).toEqual([
      [
        "ssh", "-o", "ConnectTimeout=10", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
        "-p", "2200", "-l", "admin", "-A",
        "-o", "ProxyCommand=ssh -o ConnectTimeout=10 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR -p 22 -l admin -W '[%h]:%p' bastion",
        "-T", "10.0.0.3", "--", "ls -la",
      ],
    ]);
  });

  it("takes FLEETCTL_SSH_USERNAME and --known-hosts-file", async () => {
    const { run, ran } = setup({ env: { FLEETCTL_SSH_USERNAME: "ops" } });
    await run("--known-hosts-file=/tmp/kh", "ssh", "--machine", "113f");
    expect(ran[0]).toEqual(["ssh", ...checked("/tmp/kh"), "-p", "22", "-l", "ops", "-t", "10.0.0.3"]);
  });

  it("explains what it cannot resolve", async () => {
    const both = { ...m2, id: "a0000000000000000000000000000000" };
    const { run, ran } = setup({ machines: [m1, both], units: [existing("a.service", HELLO, { desired: "launched", currentState: "launched", machineId: both.id })] });
    expect(await run("ssh", "--machine=x", "--unit=y")).toEqual({ code: 1, stdout: "", stderr: "Both machine and unit flags provided, please specify only one.\n" });
    expect(await run("ssh")).toEqual({ code: 1, stdout: "", stderr: "Unable to proceed: one machine or unit must be provided\n" });
    expect(await run("ssh", "zzz")).toEqual({ code: 1, stdout: "", stderr: "Unable to proceed: could not find matching unit or machine\n" });
    expect(await run("ssh", "--machine", "")).toMatchObject({ code: 1 });
    expect(await run("ssh", "a")).toEqual({
      code: 1,
      stdout: "",
      stderr: "Unable to proceed: ambiguous argument, both machine and unit found for `a`.\nPlease use flag `-m` or `-u` to refine the search\n",
    });
    expect(await run("ssh", "--unit", "nope")).toEqual({ code: 1, stdout: "", stderr: "Unable to proceed: unit does not exist\n" });
    expect(ran).toEqual([]);
  });
});

describe("fd-forward and verify", () => {
  it("fd-forward proxies to the socket without talking to the cluster", async () => {
    const { run, forwarded, connections, tunnels } = setup({ env: { FLEETCTL_TUNNEL: "10.0.0.1" } });
    expect(await run("fd-forward", "/var/run/fleet.sock")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(forwarded).toEqual(["/var/run/fleet.sock"]);
    expect(connections).toEqual([]);
    expect(tunnels).toEqual([]);
    expect(await run("fd-forward")).toEqual({ code: 1, stdout: "", stderr: "Provide a single argument\n" });
  });

  it("verify says the feature is deprecated", async () => {
    const { run } = setup();
    expect(await run("verify", "a.service")).toEqual({
      code: 2,
      stdout: "",
      stderr: 'Command "verify" is deprecated, DEPRECATED - No longer works\nWARNING: The signed/verified units feature is DEPRECATED and cannot be used.\n',
    });
  });
});

describe("--replace", () => {
  const CHANGED = HELLO.replace("100", "200");

  it("start --replace destroys the changed unit, creates it from the file and starts it", async () => {
    const { api, run } = setup({ units: [running("hello.service")], files: { "hello.service": CHANGED }, placeOn: m1.id });
    expect(await run("start", "--replace", "hello.service")).toEqual({
      code: 0,
      stdout: `Unit hello.service inactive\nUnit hello.service launched ${ON_M1}\n`,
      stderr: "",
    });
    expect(api.writes()).toEqual([
      { method: "destroyUnit", name: "hello.service" },
      { method: "createUnit", unit: unitOf("hello.service", CHANGED, "launched") },
    ]);
  });

  it("does nothing for a unit that did not change", async () => {
    const { api, run } = setup({ units: [running("hello.service")], files: { "hello.service": HELLO } });
    expect(await run("start", "--replace", "hello.service")).toEqual({ code: 0, stdout: "Found same Unit(hello.service) in Registry, nothing to do\n", stderr: "" });
    expect(api.writes()).toEqual([]);
  });

  it("submit --replace leaves a unit that is not inactive, with fleet's warning", async () => {
    const { api, run } = setup({ units: [running("hello.service")], files: { "hello.service": CHANGED } });
    expect(await run("submit", "--replace", "hello.service")).toEqual({
      code: 0,
      stdout: "",
      stderr: "Warning: can not replace Unit(hello.service) in state 'launched', use the appropriate command\n",
    });
    expect(api.writes()).toEqual([]);
  });

  it("submit --replace replaces an inactive unit", async () => {
    const { api, run } = setup({ units: [existing("hello.service", HELLO)], files: { "hello.service": CHANGED } });
    expect(await run("submit", "--replace", "hello.service")).toEqual({ code: 0, stdout: "Unit hello.service inactive\n", stderr: "" });
    expect(api.writes().map((w) => w.method)).toEqual(["destroyUnit", "createUnit"]);
  });
});

describe("list-machines and the engine's word on the machines", () => {
  it("prints the table as fleet did, then a mass loss and the machines units stay on, on stderr", async () => {
    const { api, run } = setup({ machines: [m1] });
    api.machineHealth = async () => ({
      massLoss: "2 of 3 machines lost contact at once",
      heldMachines: [
        { machineId: m2.id, reason: "2 of 3 machines lost contact at once" },
        { machineId: "c".repeat(32), reason: "waiting" },
      ],
    });
    expect(await run("list-machines", "--no-legend", "-l")).toEqual({
      code: 0,
      stdout: `${m1.id}\t10.0.0.3\tregion=us-west\n`,
      stderr:
        "Warning: 2 of 3 machines lost contact at once\n" +
        `Machine ${m2.id} is not responding; units placed on it stay there\n` +
        `Machine ${"c".repeat(32)} is not responding; units placed on it stay there: waiting\n`,
    });
  });

  it("prints nothing more when all is well or the endpoint cannot say (HTTP API v1)", async () => {
    const { api, run } = setup({ machines: [m1] });
    expect((await run("list-machines", "--no-legend")).stderr).toBe("");
    api.machineHealth = async () => ({ massLoss: "", heldMachines: [] });
    expect((await run("list-machines", "--no-legend")).stderr).toBe("");
  });
});

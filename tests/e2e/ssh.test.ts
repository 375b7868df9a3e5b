// fleetctl's ssh paths for real, against the sshd each sandbox machine runs on its own address
// (user core, the cluster's key in its ssh-agent, every machine's host key in the cluster's
// known_hosts): fleetctl ssh to a machine and to a unit's machine, status and journal over ssh
// (the path fleet's fleetctl takes with HTTP API v1), --tunnel through a machine, the original's
// remote `fleetctl fd-forward`, fleet-dev replace (a new machine to fleet, a changed host key to
// ssh) and add, and faults: sshd stopped, a machine killed under a session.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor, type ClusterHandle } from "@fleet/launcher";
import { fleetctl, type Run } from "./fleetctl.js";
import { startTestCluster, unitWriter } from "./sandbox.js";

const fleetDevBin = fileURLToPath(new URL("../../tools/fleet-dev/bin/fleet-dev.js", import.meta.url));
const fleetctlBin = fileURLToPath(new URL("../../clients/fleetctl/bin/fleetctl", import.meta.url));
let cluster: ClusterHandle;
let env: Record<string, string>;
const timings: string[] = [];
const units = unitWriter("ssh");

/** The real fleet-dev, on this test's cluster. */
function fleetDev(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [fleetDevBin, ...args, "--state-dir", cluster.stateDir], { timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** fleetctl with `stdin.text` on its stdin, then the end of it unless keepOpen (a tunnel's stdin
 * stays open while its client talks). */
function fleetctlWithInput(stdin: { text: string; keepOpen?: boolean }, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(fleetctlBin, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
    if (stdin.keepOpen) child.stdin?.write(stdin.text);
    else child.stdin?.end(stdin.text);
  });
}

/** list-machines rows as [id, ip, metadata] with ids in full. */
async function machines(): Promise<string[][]> {
  const r = await fleetctl(env, "list-machines", "--full", "--no-legend");
  expect(r.stderr).toBe("");
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => l.split("\t").filter((f) => f !== ""));
}

/**
 * Can the ssh user open the machine's /var/run/fleet.sock? fleetd's socket (CoreOS's fleet.socket,
 * systemd's default SocketMode=0666) could: fleet's --tunnel ran `fleetctl fd-forward` on it as
 * core (its functional tunnel test did). Ours is 0660 and given to the group fleet, which the
 * ssh user is in. Said when it cannot.
 */
async function sshUserCanUseFleetSock(machine: string): Promise<boolean> {
  const r = await fleetctl(env, "ssh", id(machine).slice(0, 8), "--", "test -w /var/run/fleet.sock && echo usable; stat -c %a:%U:%G /var/run/fleet.sock");
  if (r.stdout.startsWith("usable\n")) return true;
  console.warn(`ssh: ${machine}'s /var/run/fleet.sock is not usable by the ssh user (mode:owner:group ${r.stdout.trim() || r.stderr.trim()}); fleetd's was 0666`);
  return false;
}

const id = (name: string) => cluster.reload().machine(name).machineId;
const ip = (name: string) => cluster.reload().machine(name).publicIp;
const knownHosts = () => env.FLEETCTL_KNOWN_HOSTS_FILE ?? "";

beforeAll(async () => {
  const t0 = Date.now();
  cluster = await startTestCluster("ssh", [{ name: "m1" }, { name: "m2" }]);
  timings.push(`cluster up: ${Date.now() - t0} ms`);
  env = cluster.env;
  expect(env.SSH_AUTH_SOCK).toBe(`${cluster.stateDir}/ssh/agent.sock`);
  expect(env.FLEETCTL_SSH_USERNAME).toBe("core");
  // A unit pinned to m2: ssh to it, status and journal from it, through m1 as the tunnel.
  const unit = units.write("tick.service", `[Service]\nExecStart=/bin/sh -c 'while :; do echo tick; sleep 1; done'\n\n[X-Fleet]\nMachineID=${id("m2")}\n`);
  const r = await fleetctl(env, "start", unit);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  if (timings.length) console.log(`ssh timings:\n  ${timings.join("\n  ")}`);
  await cluster?.stop({ removeState: true });
});

describe("fleetctl ssh", () => {
  it("runs a command on the machine named by an id prefix, as fleet's user, with the command's exit code", async () => {
    const t0 = Date.now();
    const r = await fleetctl(env, "ssh", id("m1").slice(0, 8), "--", "hostname; id -un; id -Gn; exit 3");
    timings.push(`fleetctl ssh <machine> (one command): ${Date.now() - t0} ms`);
    expect(r).toEqual({ code: 3, stdout: expect.stringMatching(/^m1\ncore\n.*systemd-journal.*\n$/), stderr: "" });
  });

  it("runs a command on the machine of a unit", async () => {
    const r = await fleetctl(env, "ssh", "tick.service", "--", "hostname; systemctl is-active tick.service");
    expect(r).toEqual({ code: 0, stdout: "m2\nactive\n", stderr: "" });
  });
});

describe("status and journal over ssh (HTTP API v1 cannot stream them: fleet's path)", () => {
  it("status runs systemctl status on the unit's machine, with its exit code", async () => {
    const r = await fleetctl(env, "--endpoint", env.FLEET_API_V1 ?? "", "status", "tick.service");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^● tick\.service/);
    expect(r.stdout).toMatch(/Active: active \(running\)/);
  });

  it("journal runs journalctl there as the ssh user (in systemd-journal)", async () => {
    // The unit prints a tick a second: wait until its journal holds three after systemd's "Started".
    await waitFor("three ticks in tick.service's journal", async () => (await cluster.exec("m2", ["journalctl", "-u", "tick.service", "-n", "3", "-o", "cat"])).stdout === "tick\ntick\ntick\n", {
      timeoutMs: 15_000,
      intervalMs: 250,
    });
    const r = await fleetctl(env, "--endpoint", env.FLEET_API_V1 ?? "", "journal", "--lines", "3", "--output", "cat", "tick.service");
    expect(r).toEqual({ code: 0, stdout: "tick\ntick\ntick\n", stderr: "" });
  });
});

describe("--tunnel through a machine", () => {
  it("list-machines and status reach the API and the unit's machine through m1", async () => {
    const t0 = Date.now();
    const list = await fleetctl(env, "--tunnel", ip("m1"), "list-machines", "--full", "--no-legend");
    timings.push(`fleetctl --tunnel list-machines: ${Date.now() - t0} ms`);
    expect(list.stderr).toBe("");
    expect(list.stdout).toContain(`${id("m1")}\t${ip("m1")}`);
    expect(list.stdout).toContain(`${id("m2")}\t${ip("m2")}`);
    // HTTP API v1 through the tunnel, then ssh to m2 with m1 as the jump host.
    const status = await fleetctl(env, "--tunnel", ip("m1"), "--endpoint", env.FLEET_API_V1 ?? "", "status", "tick.service");
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/Active: active \(running\)/);
  });

  it("fleet's default endpoint, /var/run/fleet.sock on the tunnel machine, is reached too", async () => {
    expect(await sshUserCanUseFleetSock("m2")).toBe(true);
    const r = await fleetctl(env, "--tunnel", ip("m2"), "--endpoint", "unix:///var/run/fleet.sock", "list-units", "--no-legend", "--fields", "unit,active");
    expect(r).toEqual({ code: 0, stdout: "tick.service\tactive\n", stderr: "" });
  });

  it("fd-forward: what fleet's own fleetctl runs on the machine for --tunnel (fleetctl fd-forward /var/run/fleet.sock)", async () => {
    expect(await sshUserCanUseFleetSock("m1")).toBe(true);
    const request = "GET /fleet/v1/machines HTTP/1.0\r\nHost: domain-sock\r\n\r\n";
    // As through fleet's tunnel: stdin stays open; fd-forward ends when the API closes the connection.
    const r = await fleetctlWithInput({ text: request, keepOpen: true }, "ssh", id("m1").slice(0, 8), "--", "fleetctl", "fd-forward", "/var/run/fleet.sock");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.[01] 200/);
    const body = JSON.parse(r.stdout.slice(r.stdout.indexOf("\r\n\r\n") + 4)) as { machines: { id: string }[] };
    expect(body.machines.map((m) => m.id).sort()).toEqual([id("m1"), id("m2")].sort());
  });
});

describe("fleet-dev replace: a new machine to fleet, a changed host key to ssh", () => {
  let oldId = "";
  it("gives m2 a new machine id on the same address", async () => {
    oldId = id("m2");
    const t0 = Date.now();
    const r = await fleetDev("replace", "m2");
    timings.push(`fleet-dev replace m2: ${Date.now() - t0} ms`);
    expect(r.code, r.stderr).toBe(0);
    const newId = id("m2");
    expect(newId).not.toBe(oldId);
    expect(r.stderr).toContain(`new machine id ${newId} (was ${oldId}), same ip ${ip("m2")}`);
    expect(r.stderr).toContain(`ssh-keygen -f ${knownHosts()} -R '${ip("m2")}'`);
    await expect.poll(async () => (await machines()).map((row) => row[0]).sort(), { timeout: 30_000, interval: 500 }).toEqual([id("m1"), newId].sort());
  });

  it("ssh to it is refused with fleet's warning while the old key is known, exit 1", async () => {
    const r = await fleetctl(env, "ssh", id("m2").slice(0, 8), "--", "hostname");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      new RegExp(
        "^@+\\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\\n@+\\n" +
          "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\\n[^]*" +
          "The fingerprint for the ssh-ed25519 key sent by the remote host is\\n([0-9a-f]{2}:){15}[0-9a-f]{2}\\.\\n" +
          "Please contact your system administrator\\.\\n" +
          `Add correct host key in ${knownHosts().replace(/[.]/g, "\\.")} to get rid of this message\\.\\n` +
          "Host key verification failed\\.\\n" +
          "Failed building SSH client: ssh: handshake failed: host key mismatch\\n" +
          "Offending key in .*; if the machine was reinstalled, forget its old key with: ssh-keygen .*\\n$",
      ),
    );
  });

  it("once the old key is forgotten: asked about as fleet asked (stdin), refused on no, remembered on yes", async () => {
    await new Promise<void>((resolve, reject) => execFile("ssh-keygen", ["-f", knownHosts(), "-R", ip("m2")], (err) => (err ? reject(err) : resolve())));
    const question = new RegExp(
      `^The authenticity of host '${ip("m2").replace(/\./g, "\\.")}' can't be established\\.\\nssh-ed25519 key fingerprint is ([0-9a-f]{2}:){15}[0-9a-f]{2}\\.\\n` +
        "Are you sure you want to continue connecting \\(yes/no\\)\\? ",
    );
    const refused = await fleetctlWithInput({ text: "no\n" }, "ssh", id("m2").slice(0, 8), "--", "hostname");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(question);
    expect(refused.stderr).toMatch(/\? Host key verification failed\.\nFailed building SSH client: ssh: handshake failed: unauthorized host\n$/);
    const t0 = Date.now();
    const trusted = await fleetctlWithInput({ text: "yes\n" }, "ssh", id("m2").slice(0, 8), "--", "hostname");
    timings.push(`fleetctl ssh to an unknown host, answered yes: ${Date.now() - t0} ms`);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.stdout).toBe("m2\n");
    expect(trusted.stderr).toMatch(question);
    expect(trusted.stderr).toMatch(new RegExp(`\\? Warning: Permanently added '${ip("m2").replace(/\./g, "\\.")}' \\(ssh-ed25519\\) to the list of known hosts\\.\\n$`));
    const newKey = readFileSync(`${cluster.reload().machine("m2").fs}/etc/ssh/ssh_host_ed25519_key.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    expect(readFileSync(knownHosts(), "utf8")).toContain(`${ip("m2")} ${newKey}\n`);
    expect(await fleetctl(env, "ssh", id("m2").slice(0, 8), "--", "hostname")).toEqual({ code: 0, stdout: "m2\n", stderr: "" });
  });
});

describe("fleet-dev add", () => {
  it("adds m3 with metadata: listed, and reachable by ssh at once (its key is trusted)", async () => {
    const t0 = Date.now();
    const r = await fleetDev("add", "m3:role=ssh,disk=ssd");
    timings.push(`fleet-dev add m3: ${Date.now() - t0} ms`);
    expect(r.code, r.stderr).toBe(0);
    expect(ip("m3")).toBe(ip("m1").replace(/\.1$/, ".3"));
    expect(await machines()).toContainEqual([id("m3"), ip("m3"), "disk=ssd,role=ssh"]);
    expect(await fleetctl(env, "ssh", id("m3").slice(0, 8), "--", "hostname")).toEqual({ code: 0, stdout: "m3\n", stderr: "" });
  });
});

describe("faults", () => {
  it("sshd stopped: ssh and a tunnel through it fail with fleet's dial error", async () => {
    expect((await cluster.exec("m3", ["systemctl", "stop", "sshd"])).code).toBe(0);
    const r = await fleetctl(env, "ssh", id("m3").slice(0, 8), "--", "hostname");
    expect(r).toEqual({ code: 1, stdout: "", stderr: `Failed building SSH client: dial tcp ${ip("m3")}:22: connect: connection refused\n` });
    const t = await fleetctl(env, "--tunnel", ip("m3"), "list-machines");
    expect(t).toEqual({ code: 1, stdout: "", stderr: `Unable to initialize client: failed initializing SSH client: dial tcp ${ip("m3")}:22: connect: connection refused\n` });
    expect((await cluster.exec("m3", ["systemctl", "start", "sshd"])).code).toBe(0);
  });

  it("a machine killed under a session: fleetctl ends at once with ssh's exit code 255 and says why", async () => {
    const t0 = Date.now();
    const session = fleetctl(env, "ssh", id("m3").slice(0, 8), "--", "echo started; sleep 60");
    // Kill once the command runs.
    await expect.poll(async () => (await cluster.exec("m3", ["pgrep", "-u", "core", "-x", "sleep"])).code, { timeout: 15_000, interval: 200 }).toBe(0);
    const tKill = Date.now();
    await cluster.kill("m3");
    const r = await session;
    timings.push(`session ended ${Date.now() - tKill} ms after the kill (${Date.now() - t0} ms in all)`);
    expect(r.code).toBe(255);
    expect(r.stdout).toBe("started\n");
    expect(r.stderr).toMatch(new RegExp(`(Connection to ${ip("m3").replace(/\./g, "\\.")} closed by remote host|Failed running command over SSH)`));
    expect(Date.now() - tKill).toBeLessThan(15_000);
  });
});

import { describe, expect, it } from "vitest";
import { existing, HELLO, m1, setup } from "../cli/fleetctl-harness.js";
import { expandHome, recordOfferedKey, shellQuote, splitTunnel, sshArgv, tunnelArgv, type SshSettings } from "./ssh.js";

const settings: SshSettings = { username: "core", timeoutS: 10, strictHostKeyChecking: true, knownHostsFile: "~/.fleetctl/known_hosts", tunnel: "" };
/** fleet's host key checking: its own file only, MD5 fingerprints; ssh never asks (fleetctl does). */
const CHECKED = ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=~/.fleetctl/known_hosts", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "FingerprintHash=md5"];
const FILES = { log: "/tmp/x/ssh.log", offeredKeys: "/tmp/x/offered-keys" };
const RECORD = `KnownHostsCommand=/bin/sh -c 'echo "$0 $1 $2" >>"$3"' %H %t %K /tmp/x/offered-keys`;

describe("sshArgv", () => {
  it("opens a shell on the machine, checking its host key as fleet did", () => {
    expect(sshArgv(settings, { host: "10.0.0.3", port: 22, forwardAgent: false, tty: true, command: "" })).toEqual([
      "ssh", "-o", "ConnectTimeout=10", ...CHECKED, "-p", "22", "-l", "core", "-t", "10.0.0.3",
    ]);
  });
  it("writes ssh's own messages and the keys hosts offer to files fleetctl reads", () => {
    expect(sshArgv(settings, { host: "10.0.0.3", port: 22, forwardAgent: false, tty: false, command: "true" }, FILES)).toEqual([
      "ssh", "-E", "/tmp/x/ssh.log", "-o", "ConnectTimeout=10", ...CHECKED, "-o", RECORD, "-p", "22", "-l", "core", "-T", "10.0.0.3", "--", "true",
    ]);
    expect(() => recordOfferedKey("/tmp/a b")).toThrow(/unsafe path/);
  });
  it("runs a command with agent forwarding, through the tunnel, trusting any key when told", () => {
    const s = { ...settings, username: "admin", strictHostKeyChecking: false, tunnel: "bastion:2222" };
    const trusting = ["-o", "ConnectTimeout=10", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"];
    expect(sshArgv(s, { host: "10.0.0.3", port: 2200, forwardAgent: true, tty: false, command: "systemctl status -l a.service" })).toEqual([
      "ssh", ...trusting, "-p", "2200", "-l", "admin", "-A",
      "-o", `ProxyCommand=ssh ${trusting.join(" ")} -p 2222 -l admin -W '[%h]:%p' bastion`,
      "-T", "10.0.0.3", "--", "systemctl status -l a.service",
    ]);
  });
  it("the tunnel checks the jump host against the same file, with the same files (OpenSSH's -J would not pass them on)", () => {
    const s = { ...settings, knownHostsFile: "/home/u/100%/known_hosts", tunnel: "10.0.0.1" };
    const argv = sshArgv(s, { host: "10.0.0.3", port: 22, forwardAgent: false, tty: false, command: "true" }, FILES);
    expect(argv).toContain(
      "ProxyCommand=ssh -E /tmp/x/ssh.log -o ConnectTimeout=10 -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/home/u/100%%/known_hosts -o GlobalKnownHostsFile=/dev/null " +
        `-o FingerprintHash=md5 -o 'KnownHostsCommand=/bin/sh -c '\\''echo "$0 $1 $2" >>"$3"'\\'' %%H %%t %%K /tmp/x/offered-keys' -p 22 -l core -W '[%h]:%p' 10.0.0.1`,
    );
  });
});

describe("tunnelArgv", () => {
  it("forwards a local port to the API behind the tunnel host", () => {
    expect(tunnelArgv({ ...settings, tunnel: "10.0.0.1" }, 4000, "/var/run/fleet.sock")).toEqual([
      "ssh", "-o", "ConnectTimeout=10", ...CHECKED,
      "-N", "-o", "ExitOnForwardFailure=yes", "-p", "22", "-l", "core", "-L", "127.0.0.1:4000:/var/run/fleet.sock", "10.0.0.1",
    ]);
  });
});

describe("--tunnel and --known-hosts-file values", () => {
  it("splits host and port, 22 when none is given (fleet's getTunnelFlag)", () => {
    expect(splitTunnel("10.0.0.1")).toEqual({ host: "10.0.0.1", port: 22 });
    expect(splitTunnel("bastion:2222")).toEqual({ host: "bastion", port: 2222 });
    expect(splitTunnel("[fd00::1]:2222")).toEqual({ host: "fd00::1", port: 2222 });
    expect(splitTunnel("[fd00::1]")).toEqual({ host: "fd00::1", port: 22 });
  });
  it("expands ~ as fleet's ParseFilepath did ($HOME); ~user is left to ssh", () => {
    expect(expandHome("~/.fleetctl/known_hosts", "/home/u/")).toBe("/home/u/.fleetctl/known_hosts");
    expect(expandHome("~", "/root")).toBe("/root");
    expect(expandHome("~bob/kh", "/root")).toBe("~bob/kh");
    expect(expandHome("/etc/kh", "/root")).toBe("/etc/kh");
    expect(expandHome("~/kh", undefined)).toBe("~/kh");
  });
});

describe("shellQuote", () => {
  it("quotes only what needs it", () => {
    expect(shellQuote(["journalctl", "--unit", "a@1.service", "it's"])).toBe("journalctl --unit a@1.service 'it'\\''s'");
  });
});

const CHANGED_LOG = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
The fingerprint for the ED25519 key sent by the remote host is
MD5:aa:bb.
Add correct host key in /kh to get rid of this message.
Offending ED25519 key in /kh:1
  ssh-keygen -f "/kh" -R "10.0.0.4"
Host key verification failed.
`;

describe("ssh's failures in fleet's words", () => {
  const onM1 = existing("a.service", HELLO, { desired: "launched", machineId: m1.id, currentState: "launched" });

  it("fleetctl ssh: a changed key is refused with fleet's warning, exit 1", async () => {
    const { run } = setup({ exitCodes: [255], sshLogs: [CHANGED_LOG] });
    const r = await run("ssh", "9a8b", "--", "true");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("The fingerprint for the ssh-ed25519 key sent by the remote host is\naa:bb.\n");
    expect(r.stderr).toContain("Add correct host key in /kh to get rid of this message.\nHost key verification failed.\nFailed building SSH client: ssh: handshake failed: host key mismatch\n");
    expect(r.stderr.endsWith("forget its old key with: ssh-keygen -f /kh -R '10.0.0.4'\n")).toBe(true);
  });

  it("fleetctl ssh: nothing listening is said as fleet's dial error, exit 1", async () => {
    const { run } = setup({ exitCodes: [255], sshLogs: ["ssh: connect to host 10.0.0.4 port 22: Connection refused\n"] });
    expect(await run("ssh", "9a8b", "--", "true")).toEqual({ code: 1, stdout: "", stderr: "Failed building SSH client: dial tcp 10.0.0.4:22: connect: connection refused\n" });
  });

  it("fleetctl ssh: a remote command's exit code, 255 too, is passed through in silence", async () => {
    const { run } = setup({ exitCodes: [255, 3] });
    expect(await run("ssh", "9a8b", "--", "exit", "255")).toEqual({ code: 255, stdout: "", stderr: "" });
    expect(await run("ssh", "9a8b", "--", "exit", "3")).toEqual({ code: 3, stdout: "", stderr: "" });
  });

  it("status over ssh: 'Unable to SSH to remote host', exit 255, as fleet's runCommand", async () => {
    const { run } = setup({ units: [onM1], noAgentAccess: true, exitCodes: [255], sshLogs: ["Host key verification failed.\n"] });
    const r = await run("status", "a.service");
    expect(r).toEqual({ code: 255, stdout: "", stderr: "Host key verification failed.\nUnable to SSH to remote host: ssh: handshake failed: unauthorized host\n" });
  });

  it("status runs systemctl here, without ssh, when the unit's machine is this machine", async () => {
    const { run, ran } = setup({
      units: [onM1],
      noAgentAccess: true,
      files: { "/etc/machine-id": `${m1.id}\n` },
    });
    expect((await run("status", "a.service")).code).toBe(0);
    expect(ran).toEqual([["/bin/sh", "-c", "systemctl status -l a.service"]]);
  });
});

import { describe, expect, it } from "vitest";
import { shellQuote, sshArgv, tunnelArgv, type SshSettings } from "./ssh.js";

const settings: SshSettings = { username: "core", timeoutS: 10, strictHostKeyChecking: true, knownHostsFile: "~/.fleetctl/known_hosts", tunnel: "" };

describe("sshArgv", () => {
  it("opens a shell on the machine, checking its host key", () => {
    expect(sshArgv(settings, { host: "10.0.0.3", port: 22, forwardAgent: false, tty: true, command: "" })).toEqual([
      "ssh", "-o", "ConnectTimeout=10", "-o", "StrictHostKeyChecking=ask", "-o", "UserKnownHostsFile=~/.fleetctl/known_hosts",
      "-p", "22", "-l", "core", "-t", "10.0.0.3",
    ]);
  });
  it("runs a command with agent forwarding, through the tunnel, trusting any key when told", () => {
    const s = { ...settings, username: "admin", strictHostKeyChecking: false, tunnel: "bastion:2222" };
    expect(sshArgv(s, { host: "10.0.0.3", port: 2200, forwardAgent: true, tty: false, command: "systemctl status -l a.service" })).toEqual([
      "ssh", "-o", "ConnectTimeout=10", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
      "-p", "2200", "-l", "admin", "-A", "-J", "admin@bastion:2222", "-T", "10.0.0.3", "--", "systemctl status -l a.service",
    ]);
  });
});

describe("tunnelArgv", () => {
  it("forwards a local port to the API behind the tunnel host", () => {
    expect(tunnelArgv({ ...settings, tunnel: "10.0.0.1" }, 4000, "/var/run/fleet.sock")).toEqual([
      "ssh", "-o", "ConnectTimeout=10", "-o", "StrictHostKeyChecking=ask", "-o", "UserKnownHostsFile=~/.fleetctl/known_hosts",
      "-N", "-o", "ExitOnForwardFailure=yes", "-p", "22", "-l", "core", "-L", "127.0.0.1:4000:/var/run/fleet.sock", "10.0.0.1",
    ]);
  });
});

describe("shellQuote", () => {
  it("quotes only what needs it", () => {
    expect(shellQuote(["journalctl", "--unit", "a@1.service", "it's"])).toBe("journalctl --unit a@1.service 'it'\\''s'");
  });
});

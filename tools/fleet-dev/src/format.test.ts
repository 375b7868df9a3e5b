import { describe, expect, it } from "vitest";
import { exportLines, formatStatus, shellQuote, sshHints, type StatusView } from "./format.js";

describe("exportLines", () => {
  it("prints eval-able export lines", () => {
    expect(exportLines({ FLEETCTL_ENDPOINT: "127.0.0.1:4001", X: "a b'c" })).toBe(`export FLEETCTL_ENDPOINT=127.0.0.1:4001\nexport X='a b'\\''c'\n`);
    expect(shellQuote("")).toBe("");
    expect(shellQuote("nats://127.0.0.1:4222")).toBe("nats://127.0.0.1:4222");
  });
});

describe("formatStatus", () => {
  it("lists components and machines with pids and liveness", () => {
    const v: StatusView = {
      cluster: "default",
      stateDir: "/var/tmp/fleet-dev/default",
      status: "up",
      createdAt: "2026-01-01T00:00:00.000Z",
      endpoints: {},
      env: {},
      leader: "engine-2",
      components: [
        { name: "etcd", kind: "etcd", pid: 10, alive: true, address: "http://127.0.0.1:2379", logFile: "/l" },
        { name: "engine-1", kind: "engine", pid: 12, alive: false, logFile: "/l" },
        { name: "engine-2", kind: "engine", pid: 13, alive: true, logFile: "/l", metricsUrl: "http://127.0.0.1:9913/metrics" },
      ],
      machines: [
        { name: "m1", machineId: "a".repeat(32), publicIp: "127.0.1.1", metadata: { role: "web" }, nspawnPid: 20, pid1: 21, alive: true, cgroup: "c", agentLog: "/a", metricsUrl: "http://127.0.1.1:49701/metrics" },
        { name: "m2", machineId: "b".repeat(32), publicIp: "127.0.1.2", metadata: {}, nspawnPid: 22, alive: false, cgroup: "c", agentLog: "/a", metricsUrl: "http://127.0.1.1:49701/metrics" },
        { name: "m3", machineId: "c".repeat(32), publicIp: "127.0.1.3", metadata: {}, nspawnPid: 23, pid1: 24, alive: true, cgroup: "c", agentLog: "/a", metricsUrl: "http://127.0.1.3:49701/metrics", partition: { chain: "FLEET-default-m3", since: "t" } },
      ],
    };
    const out = formatStatus(v);
    expect(out).toContain("cluster default (/var/tmp/fleet-dev/default): up");
    expect(out).toMatch(/etcd\s+10\s+alive\s+http:\/\/127\.0\.0\.1:2379/);
    expect(out).toMatch(/engine-1\s+12\s+dead\s+-/);
    expect(out).toMatch(/engine-2\s+13\s+alive, leader\s+-\s+http:\/\/127\.0\.0\.1:9913\/metrics/);
    expect(out).toMatch(new RegExp(`m1\\s+${"a".repeat(32)}\\s+127\\.0\\.1\\.1\\s+20\\s+21\\s+alive\\s+role=web`));
    expect(out).toMatch(/m2\s+b{32}\s+127\.0\.1\.2\s+22\s+-\s+dead\s+-/);
    expect(out).toMatch(/m3\s+c{32}\s+127\.0\.1\.3\s+23\s+24\s+alive, partitioned\s+-/);
  });
});

describe("ssh in fleet-dev's output", () => {
  const ssh = {
    user: "core",
    port: 22,
    keyFile: "/s/ssh/id_ed25519",
    knownHostsFile: "/s/ssh/known_hosts",
    agentSocket: "/s/ssh/agent.sock",
    agentPid: 30,
    agentStartTime: "1",
    agentLogFile: "/s/ssh/ssh-agent.log",
  };
  const m1 = { name: "m1", machineId: "0123456789abcdef0123456789abcdef", publicIp: "127.0.1.1" };
  it("says how to use ssh: the key, known_hosts, a first command, and the flags without the exports", () => {
    const hints = sshHints({ ssh, machines: [m1] });
    expect(hints.join("\n")).toContain("port 22, for user core");
    expect(hints.join("\n")).toContain("key /s/ssh/id_ed25519");
    expect(hints).toContain("ssh: try  fleetctl ssh 01234567 -- systemctl status fleet-agent   or   fleetctl --tunnel 127.0.1.1 list-machines");
    expect(hints).toContain("ssh: keeping your own agent instead: ssh-add /s/ssh/id_ed25519; fleetctl --ssh-username=core --known-hosts-file=/s/ssh/known_hosts ...");
  });
  it("names the port when sshd could not have 22", () => {
    const hints = sshHints({ ssh: { ...ssh, port: 2222 }, machines: [m1] });
    expect(hints).toContain("ssh: try  fleetctl ssh --ssh-port=2222 01234567 -- systemctl status fleet-agent   or   fleetctl --tunnel 127.0.1.1:2222 list-machines");
  });
  it("says when the machines have no sshd", () => {
    expect(sshHints({ machines: [] })).toEqual(["ssh: the machines run no sshd (install openssh-server: scripts/install.sh)"]);
  });
  it("status shows the cluster's ssh", () => {
    const out = formatStatus({
      cluster: "c",
      stateDir: "/s",
      status: "up",
      createdAt: "t",
      endpoints: {},
      env: {},
      components: [],
      ssh: { ...ssh, agentAlive: true },
      machines: [],
    });
    expect(out).toContain("ssh: user core, port 22, key /s/ssh/id_ed25519, known hosts /s/ssh/known_hosts, ssh-agent pid 30 alive (/s/ssh/agent.sock)");
  });
});

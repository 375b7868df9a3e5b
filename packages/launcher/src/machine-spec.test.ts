import { describe, expect, it } from "vitest";
import {
  agentEnvText,
  agentUnitText,
  formatMetadata,
  launcherScript,
  machinePaths,
  machinePublicIp,
  MASKED_UNITS,
  newMachineId,
  nspawnArgs,
  parseMetadata,
  parseNsPid,
  validateName,
} from "./machine-spec.js";

describe("metadata", () => {
  it("parses and formats fleet's k=v,k=v", () => {
    expect(parseMetadata("region=us-east,disk=ssd")).toEqual({ region: "us-east", disk: "ssd" });
    expect(parseMetadata("")).toEqual({});
    expect(formatMetadata({ disk: "ssd", region: "us-east" })).toBe("disk=ssd,region=us-east");
    expect(formatMetadata({})).toBe("");
  });
  it("rejects malformed pairs", () => {
    expect(() => parseMetadata("region")).toThrow(/key=value/);
    expect(() => parseMetadata("=x")).toThrow();
    expect(() => parseMetadata("a=b c")).toThrow();
    expect(() => formatMetadata({ a: "x,y" })).toThrow();
  });
});

describe("names", () => {
  it("accepts hostname-like names", () => {
    expect(() => validateName("machine", "m1")).not.toThrow();
    expect(() => validateName("cluster", "e2e-failover")).not.toThrow();
  });
  it("rejects the rest", () => {
    for (const bad of ["", "M1", "-a", "a-", "a/b", "a b", "x".repeat(33), "../x"]) expect(() => validateName("machine", bad)).toThrow();
    expect(() => validateName("machine", "services")).toThrow(/reserved/);
  });
});

describe("machine layout", () => {
  it("puts a machine under its cluster dir, cgroup named by cluster and machine", () => {
    const p = machinePaths("/var/tmp/fleet-dev/default", "default", "m1");
    expect(p).toEqual({
      dir: "/var/tmp/fleet-dev/default/m1",
      fs: "/var/tmp/fleet-dev/default/m1/fs",
      dbusDir: "/var/tmp/fleet-dev/default/m1/dbus",
      logFile: "/var/tmp/fleet-dev/default/m1/nspawn.log",
      cgroupName: "fleet-default-m1",
    });
  });
  it("gives loopback public IPs", () => {
    expect(machinePublicIp(1)).toBe("127.0.1.1");
    expect(machinePublicIp(12)).toBe("127.0.1.12");
    expect(machinePublicIp(3, "127.0.7")).toBe("127.0.7.3");
    expect(() => machinePublicIp(0)).toThrow();
    expect(() => machinePublicIp(255)).toThrow();
  });
  it("makes unique 32-hex machine ids", () => {
    const a = newMachineId();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newMachineId()).not.toBe(a);
  });
  it("masks what must not run in a machine", () => {
    for (const u of ["etcd.service", "nats-server.service", "console-getty.service", "getty@tty1.service", "systemd-networkd-wait-online.service", "postgresql.service"]) {
      expect(MASKED_UNITS).toContain(u);
    }
  });
});

describe("agent unit", () => {
  it("runs the agent from the bound repo, restarting forever", () => {
    const u = agentUnitText();
    expect(u).toContain("Type=simple");
    expect(u).toContain("ExecStart=/usr/bin/node --max-semi-space-size=1 --lite-mode /opt/fleet/services/agent/dist/main.js");
    expect(u).toContain("EnvironmentFile=/etc/fleet/agent.env");
    expect(u).toContain("Restart=always");
    expect(u).toContain("RestartSec=1");
    expect(u).toContain("StartLimitIntervalSec=0");
    // Its log goes to the machine's journal (journalctl -u fleet-agent).
    expect(u).not.toMatch(/Standard(Output|Error)=/);
  });
  it("answers to fleet.service, reloads on SIGHUP and gives a stop time to unload the units", () => {
    const u = agentUnitText();
    expect(u).toMatch(/\[Install\][^[]*\nAlias=fleet\.service\n/);
    expect(u).toContain("ExecReload=/bin/kill -HUP $MAINPID");
    expect(u).toContain("TimeoutStopSec=120");
  });
  it("tells the agent where the api is, for the machine's fleet.sock", () => {
    const env = agentEnvText({ gatewayEndpoint: "g:1", natsServers: "n", publicIp: "127.0.1.2", metadata: {}, agentTtlSeconds: 5, apiEndpoint: "127.0.0.1:7001", apiHttpEndpoint: "127.0.0.1:7002" });
    expect(env).toContain("FLEET_API_ENDPOINT=127.0.0.1:7001\nFLEET_API_HTTP_ENDPOINT=127.0.0.1:7002\n");
  });
  it("writes the agent's environment", () => {
    const env = agentEnvText({
      gatewayEndpoint: "127.0.0.1:7000",
      natsServers: "nats://127.0.0.1:4222",
      publicIp: "127.0.1.2",
      metadata: { role: "web", az: "b" },
      agentTtlSeconds: 5,
    });
    expect(env.split("\n")).toEqual([
      "FLEET_GATEWAY_ENDPOINT=127.0.0.1:7000",
      "FLEET_NATS_SERVERS=nats://127.0.0.1:4222",
      "FLEET_PUBLIC_IP=127.0.1.2",
      "FLEET_METADATA=az=b,role=web",
      "FLEET_AGENT_TTL=5",
      "FLEET_VERBOSITY=info",
      "FLEET_METRICS_LISTEN=127.0.1.2:49701",
      "",
    ]);
  });
});

describe("nspawn launch", () => {
  it("boots with the sandbox recipe's flags and the repo bound read-only", () => {
    const a = nspawnArgs({ name: "m1", fs: "/v/m1/fs", dbusDir: "/v/m1/dbus", repoRoot: "/srv/fleet" });
    expect(a).toEqual(["--register=no", "--keep-unit", "--bind-ro=/usr", "--bind=/v/m1/dbus:/run/dbus", "--bind-ro=/srv/fleet:/opt/fleet", "-b", "-M", "m1", "-D", "/v/m1/fs"]);
    expect(a).not.toContain("--private-network");
  });
  it("moves itself into both cgroup hierarchies before exec'ing nspawn", () => {
    const s = launcherScript("fleet-default-m1", ["-D", "/v/it's"]);
    expect(s).toContain("mkdir -p '/sys/fs/cgroup/systemd/fleet-default-m1' && echo $$ > '/sys/fs/cgroup/systemd/fleet-default-m1/cgroup.procs'");
    expect(s).toContain("/sys/fs/cgroup/unified/fleet-default-m1/cgroup.procs");
    expect(s).toContain("export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1");
    expect(s.trim().split("\n").pop()).toBe(`exec /usr/bin/systemd-nspawn '-D' '/v/it'\\''s'`);
  });
  it("reads NSpid", () => {
    expect(parseNsPid("Name:\tsystemd\nNSpid:\t6200\t1\nNSpgid:\t1\n")).toEqual([6200, 1]);
    expect(parseNsPid("Name:\tx\n")).toEqual([]);
  });
});

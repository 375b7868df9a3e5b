import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { etcdArgs } from "./etcd.js";
import { natsArgs } from "./nats.js";
import { freePort, freePorts, listeningPortRange, splitHostPort, tcpAccepts } from "./ports.js";
import { isAlive, parseProcStat, spawnLogged, terminate, waitFor, WaitAborted } from "./proc.js";
import { clientEnv, type ClusterState } from "./state.js";

describe("parseProcStat", () => {
  it("handles comm with spaces and parens", () => {
    const text = "123 (a (b) c) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
    expect(parseProcStat(text)).toEqual({ state: "S", ppid: 1, startTime: "98765" });
  });
});

describe("command lines", () => {
  it("etcd: one loopback member with its own data dir and metrics", () => {
    const a = etcdArgs({ name: "etcd", dataDir: "/d", clientPort: 1, peerPort: 2, metricsPort: 3 });
    const flag = (f: string) => a[a.indexOf(f) + 1];
    expect(flag("--data-dir")).toBe("/d");
    expect(flag("--listen-client-urls")).toBe("http://127.0.0.1:1");
    expect(flag("--advertise-client-urls")).toBe("http://127.0.0.1:1");
    expect(flag("--listen-peer-urls")).toBe("http://127.0.0.1:2");
    expect(flag("--initial-advertise-peer-urls")).toBe("http://127.0.0.1:2");
    expect(flag("--initial-cluster")).toBe("etcd=http://127.0.0.1:2");
    expect(flag("--listen-metrics-urls")).toBe("http://127.0.0.1:3");
  });
  it("nats: loopback only", () => {
    expect(natsArgs({ port: 4, monitorPort: 5 })).toEqual(["-a", "127.0.0.1", "-p", "4", "-m", "5"]);
  });
  it("splitHostPort", () => {
    expect(splitHostPort("127.0.0.1:80")).toEqual({ host: "127.0.0.1", port: 80 });
    expect(splitHostPort("http://127.0.0.1:2379")).toEqual({ host: "127.0.0.1", port: 2379 });
    expect(() => splitHostPort("nope")).toThrow();
  });
});

describe("clientEnv", () => {
  it("exports what clients need", () => {
    const s = { stateDir: "/s", endpoints: { api: "127.0.0.1:1", gateway: "127.0.0.1:2", nats: "nats://127.0.0.1:3", etcd: "http://127.0.0.1:4" } } as ClusterState;
    expect(clientEnv(s)).toEqual({
      FLEETCTL_ENDPOINT: "127.0.0.1:1",
      FLEET_GATEWAY_ENDPOINT: "127.0.0.1:2",
      FLEET_NATS_SERVERS: "nats://127.0.0.1:3",
      FLEET_ETCD_SERVERS: "http://127.0.0.1:4",
      FLEET_DEV_STATE: "/s",
    });
  });
});

describe("processes", () => {
  const dir = mkdtempSync(join(tmpdir(), "launcher-proc-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("spawns with a log, tells a live PID from a dead or reused one, terminates", async () => {
    const logFile = join(dir, "sh.log");
    const p = await spawnLogged({ cmd: "/bin/sh", args: ["-c", "echo hello; exec sleep 30"], logFile });
    expect(isAlive(p)).toBe(true);
    expect(isAlive({ pid: p.pid, startTime: "1" })).toBe(false);
    await waitFor("log", () => readFileSync(logFile, "utf8").includes("hello"), { timeoutMs: 5_000 });
    expect(await terminate(p, 2_000)).toBe(true);
    expect(isAlive(p)).toBe(false);
  });
  it("waitFor aborts at once on WaitAborted and times out otherwise", async () => {
    await expect(waitFor("x", () => { throw new WaitAborted("gone"); }, { timeoutMs: 5_000 })).rejects.toThrow("gone");
    await expect(waitFor("never", () => false, { timeoutMs: 100 })).rejects.toThrow(/timed out .* never/);
  });
  it("freePort gives a port nobody listens on", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await tcpAccepts("127.0.0.1", port)).toBe(false);
  });
  it("freePort draws below the ephemeral range and never hands out a port twice", async () => {
    const ephemeralLow = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    const ports = await freePorts(50);
    expect(new Set(ports).size).toBe(50);
    for (const port of ports) expect(port).toBeLessThan(ephemeralLow);
  });
});

describe("listeningPortRange", () => {
  it.each([
    ["32768\t60999\n", { low: 15_000, high: 32_768 }],
    ["40000 65000", { low: 15_000, high: 40_000 }],
    [undefined, { low: 15_000, high: 32_768 }],
    ["1024 65535", undefined],
    ["16000 65535", undefined],
  ])("%j -> %j", (text, expected) => {
    expect(listeningPortRange(text)).toEqual(expected);
  });
});

describe("leaderIdOf", () => {
  it("reads the engine id from a plain or JSON leadership value", async () => {
    const { leaderIdOf } = await import("./etcd.js");
    expect(leaderIdOf("engine-1")).toBe("engine-1");
    expect(leaderIdOf('{"id":"engine-2","since":1}')).toBe("engine-2");
    expect(leaderIdOf('"engine-3"')).toBe("engine-3");
  });
});

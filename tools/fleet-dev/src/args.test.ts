import { describe, expect, it } from "vitest";
import { parseArgs, parseMachineSpec, UsageError } from "./args.js";

const g = { stateDir: "/var/tmp/fleet-dev/default" };

describe("parseArgs", () => {
  it("up --machines N names machines m1..mN with defaults", () => {
    expect(parseArgs(["up", "--machines", "3"])).toEqual({
      cmd: "up",
      g,
      machines: [
        { name: "m1", metadata: {} },
        { name: "m2", metadata: {} },
        { name: "m3", metadata: {} },
      ],
      etcdMembers: 1,
      gateways: 1,
      agentTtlSeconds: 5,
      reconcileIntervalSeconds: 5,
      timeoutSeconds: 120,
      keepOnFailure: false,
      auth: false,
      tls: false,
    });
  });
  it("up --auth turns the api's authentication on, --tls mutual TLS", () => {
    expect(parseArgs(["up", "--machines", "1", "--auth"])).toMatchObject({ cmd: "up", auth: true, tls: false });
    expect(parseArgs(["up", "--machines", "1", "--tls", "--auth"])).toMatchObject({ cmd: "up", auth: true, tls: true });
  });
  it("up --machine NAME:k=v (repeatable) with options in both spellings", () => {
    const c = parseArgs(["up", "--machine", "web1:role=web,az=a", "--machine=db", "--agent-ttl=3", "--reconcile-interval", "2"]);
    expect(c).toMatchObject({
      cmd: "up",
      machines: [
        { name: "web1", metadata: { role: "web", az: "a" } },
        { name: "db", metadata: {} },
      ],
      agentTtlSeconds: 3,
      reconcileIntervalSeconds: 2,
    });
  });
  it("state dir: --state-dir, then FLEET_DEV_STATE, then the cluster's default", () => {
    expect(parseArgs(["down", "--state-dir", "/x"], { FLEET_DEV_STATE: "/y" })).toEqual({ cmd: "down", g: { stateDir: "/x" } });
    expect(parseArgs(["down"], { FLEET_DEV_STATE: "/y" })).toEqual({ cmd: "down", g: { stateDir: "/y" } });
    expect(parseArgs(["down", "--cluster", "e2e"])).toEqual({ cmd: "down", g: { stateDir: "/var/tmp/fleet-dev/e2e", cluster: "e2e" } });
  });
  it("exec takes everything after -- verbatim", () => {
    expect(parseArgs(["exec", "m1", "--", "systemctl", "is-active", "--quiet", "hello.service"])).toEqual({
      cmd: "exec",
      g,
      machine: "m1",
      argv: ["systemctl", "is-active", "--quiet", "hello.service"],
    });
    expect(parseArgs(["exec", "m1", "hostname"])).toMatchObject({ argv: ["hostname"] });
  });
  it("status, kill, restart, help", () => {
    expect(parseArgs(["status", "--json"])).toEqual({ cmd: "status", g, json: true });
    expect(parseArgs(["status"])).toEqual({ cmd: "status", g, json: false });
    expect(parseArgs(["env"])).toEqual({ cmd: "env", g });
    expect(() => parseArgs(["env", "extra"])).toThrow();
    expect(parseArgs(["kill", "m2"])).toEqual({ cmd: "kill", g, name: "m2" });
    expect(parseArgs(["restart", "m2"])).toEqual({ cmd: "restart", g, name: "m2" });
    expect(parseArgs([])).toEqual({ cmd: "help" });
    expect(parseArgs(["up", "--help"])).toEqual({ cmd: "help" });
  });
  it("up --etcd-members N --gateways N", () => {
    expect(parseArgs(["up", "--machines", "2", "--etcd-members", "3", "--gateways=2"])).toMatchObject({ cmd: "up", etcdMembers: 3, gateways: 2 });
    expect(parseArgs(["up"])).toMatchObject({ cmd: "up", etcdMembers: 1, gateways: 1 });
  });
  it("kill and restart take machine or component names; partition and heal take a machine", () => {
    for (const name of ["etcd", "etcd-2", "nats", "registry-gateway", "registry-gateway-1", "engine-1", "api", "web1"]) {
      expect(parseArgs(["kill", name])).toEqual({ cmd: "kill", g, name });
      expect(parseArgs(["restart", name, "--cluster", "e2e"])).toEqual({ cmd: "restart", g: { stateDir: "/var/tmp/fleet-dev/e2e", cluster: "e2e" }, name });
    }
    expect(parseArgs(["partition", "m1"])).toEqual({ cmd: "partition", g, machine: "m1" });
    expect(parseArgs(["heal", "m1", "--state-dir=/s"])).toEqual({ cmd: "heal", g: { stateDir: "/s" }, machine: "m1" });
  });
  it("add NAME[:k=v,...] takes the metadata syntax of up --machine; replace takes a machine", () => {
    expect(parseArgs(["add", "m3"])).toEqual({ cmd: "add", g, machine: { name: "m3", metadata: {} }, timeoutSeconds: 120 });
    expect(parseArgs(["add", "web2:role=web,az=b", "--timeout=30", "--cluster", "e2e"])).toEqual({
      cmd: "add",
      g: { stateDir: "/var/tmp/fleet-dev/e2e", cluster: "e2e" },
      machine: { name: "web2", metadata: { role: "web", az: "b" } },
      timeoutSeconds: 30,
    });
    expect(parseArgs(["replace", "m2"])).toEqual({ cmd: "replace", g, machine: "m2", timeoutSeconds: 120 });
    expect(parseArgs(["replace", "--state-dir", "/s", "m2", "--timeout", "45"])).toEqual({ cmd: "replace", g: { stateDir: "/s" }, machine: "m2", timeoutSeconds: 45 });
  });
  it("rejects bad input with usage errors", () => {
    const bad: string[][] = [
      ["frobnicate"],
      ["up", "--machines", "0"],
      ["up", "--machines", "two"],
      ["up", "--machines", "2", "--machine", "a"],
      ["up", "--machine", "a", "--machine", "a"],
      ["up", "--machine", "Bad_Name"],
      ["up", "--machine", "a:novalue"],
      ["up", "--agent-ttl", "-1"],
      ["up", "--agent-ttl"],
      ["up", "--bogus"],
      ["down", "--json"],
      ["exec", "m1"],
      ["exec"],
      ["kill"],
      ["kill", "m1", "m2"],
      ["status", "--cluster", "UPPER"],
      ["up", "--etcd-members", "0"],
      ["up", "--etcd-members", "10"],
      ["up", "--etcd-members", "1.5"],
      ["up", "--gateways", "x"],
      ["up", "--gateways", "2", "--gateways", "3"],
      ["down", "--gateways", "2"],
      ["up", "--machine", "api"],
      ["up", "--machine", "etcd-2:role=db"],
      ["up", "--machine", "registry-gateway"],
      ["up", "--machine", "engine-1"],
      ["restart"],
      ["partition"],
      ["partition", "m1", "m2"],
      ["heal", "m1", "--json"],
      ["add"],
      ["add", "m3", "m4"],
      ["add", "Bad_Name"],
      ["add", "m3:novalue"],
      ["add", "m3:role=web,"],
      ["add", "api"],
      ["add", "engine-3:role=x"],
      ["add", "m3", "--json"],
      ["add", "m3", "--timeout", "0"],
      ["add", "m3", "--", "x"],
      ["replace"],
      ["replace", "m1", "m2"],
      ["replace", "m1:role=web"],
      ["replace", "m1", "--machines", "2"],
    ];
    for (const argv of bad) expect(() => parseArgs(argv), argv.join(" ")).toThrow(UsageError);
  });
});

describe("parseMachineSpec", () => {
  it("splits name and metadata", () => {
    expect(parseMachineSpec("m1")).toEqual({ name: "m1", metadata: {} });
    expect(parseMachineSpec("m1:")).toEqual({ name: "m1", metadata: {} });
    expect(parseMachineSpec("m1:disk=ssd")).toEqual({ name: "m1", metadata: { disk: "ssd" } });
  });
});

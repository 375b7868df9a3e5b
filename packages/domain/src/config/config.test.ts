import { describe, expect, it } from "vitest";
import { ConfigError, parseConfigFile, parseMetadata, parseSeconds, resolveConfig, type ConfigSchema } from "./config.js";

const schema = {
  etcd_servers: { kind: "list", default: "http://127.0.0.1:2379", help: "" },
  agent_ttl: { kind: "seconds", default: "30s", help: "" },
  metadata: { kind: "metadata", default: "", help: "" },
  disable_engine: { kind: "bool", default: "false", help: "" },
  token_limit: { kind: "int", default: "100", help: "" },
  gateway_listen: { kind: "address", default: "127.0.0.1:49400", help: "" },
} as const satisfies ConfigSchema;

describe("parseSeconds", () => {
  it.each([
    ["5", 5],
    ["2.5", 2.5],
    ["500ms", 0.5],
    ["30s", 30],
    ["2m", 120],
    ["1h", 3600],
    ["x", undefined],
    ["-1s", undefined],
    ["", undefined],
  ])("%s -> %s", (input, want) => expect(parseSeconds(input)).toBe(want));
});

describe("parseMetadata: fleet's three quoting forms", () => {
  it.each([
    ["region=east,disk=ssd", { region: "east", disk: "ssd" }],
    ['"region=east,disk=ssd"', { region: "east", disk: "ssd" }],
    ['region="east",disk="ssd"', { region: "east", disk: "ssd" }],
    [" region = east , disk=ssd ", { region: "east", disk: "ssd" }],
    ["", {}],
  ])("%s", (input, want) => expect(parseMetadata(input)).toEqual(want));

  it.each(["region", "=east", "a b=c"])("rejects %s", (input) => expect(() => parseMetadata(input)).toThrow(ConfigError));
});

describe("resolveConfig", () => {
  it("uses defaults, then the file, then FLEET_ environment variables", () => {
    const file = parseConfigFile('# fleet.conf\nagent_ttl = "10s"\nmetadata="region=east"\n');
    const cfg = resolveConfig(schema, file, { FLEET_AGENT_TTL: "3", FLEET_TOKEN_LIMIT: "7" });
    expect(cfg).toEqual({
      etcd_servers: ["http://127.0.0.1:2379"],
      agent_ttl: 3,
      metadata: { region: "east" },
      disable_engine: false,
      token_limit: 7,
      gateway_listen: "127.0.0.1:49400",
    });
  });

  it.each([
    ["unknown option", "bogus = 1", {}, "unknown option bogus"],
    ["bad duration", "agent_ttl = soon", {}, "invalid value for agent_ttl"],
    ["bad int from env", "", { FLEET_TOKEN_LIMIT: "ten" }, "invalid value for token_limit"],
    ["bad bool", "disable_engine = maybe", {}, "invalid value for disable_engine"],
    ["bad address", "gateway_listen = nowhere", {}, "invalid value for gateway_listen"],
    ["bad metadata", "metadata = region", {}, "invalid value for metadata"],
    ["line without =", "agent_ttl", {}, "config:1"],
  ])("%s is an error naming the option", (_name, text, env, message) => {
    expect(() => resolveConfig(schema, parseConfigFile(text), env)).toThrow(message);
  });

  it.each([
    ["0.55", 0.55],
    [".5", 0.5],
    ["1", 1],
    ["0", 0],
    ["1.0", 1],
  ])("a share: %s is %d", (raw, value) => {
    const cfg = resolveConfig({ threshold: { kind: "share", default: "0.55", help: "" } } as const, new Map(), { FLEET_THRESHOLD: raw });
    expect(cfg.threshold).toBe(value);
  });

  it.each(["1.5", "-0.1", "half", "55%", ""])("a share: %j is an error naming the option", (raw) => {
    expect(() => resolveConfig({ threshold: { kind: "share", default: "0.55", help: "" } } as const, new Map(), { FLEET_THRESHOLD: raw })).toThrow(
      `invalid value for threshold: "${raw}" is not a share between 0 and 1`,
    );
  });

  it("accepts options that other services read", () => {
    expect(() => resolveConfig(schema, parseConfigFile("public_ip = 10.0.0.1"), {}, ["public_ip"])).not.toThrow();
  });
});

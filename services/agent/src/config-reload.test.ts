import { describe, expect, it } from "vitest";
import { resolveConfig } from "@fleet/domain";
import { agentConfigSchema, validateAgentConfig, type AgentConfig } from "./config.js";
import { changesRegistration, planReload } from "./config-reload.js";

const config = (file: Record<string, string> = {}): AgentConfig => resolveConfig(agentConfigSchema, new Map(Object.entries(file)), {});

describe("planReload: what a SIGHUP applies at once, and what waits for a restart", () => {
  const cases: Array<{ name: string; after: Record<string, string>; apply: string[]; restartNeeded: string[]; registers: boolean }> = [
    { name: "nothing changed", after: {}, apply: [], restartNeeded: [], registers: false },
    { name: "the log level", after: { verbosity: "debug" }, apply: ["verbosity"], restartNeeded: [], registers: false },
    { name: "metadata: registered again", after: { metadata: "disk=ssd" }, apply: ["metadata"], restartNeeded: [], registers: true },
    { name: "public IP: registered again", after: { public_ip: "10.0.0.7" }, apply: ["public_ip"], restartNeeded: [], registers: true },
    { name: "where the API socket relays to", after: { api_http_endpoint: "10.0.0.1:49501", api_endpoint: "10.0.0.1:49500" }, apply: ["api_endpoint", "api_http_endpoint"], restartNeeded: [], registers: false },
    { name: "agent_leave_on_stop", after: { agent_leave_on_stop: "always" }, apply: ["agent_leave_on_stop"], restartNeeded: [], registers: false },
    {
      name: "the gateway, the TTL and the units directory take a restart",
      after: { gateway_endpoint: "10.0.0.1:49400", agent_ttl: "10s", units_dir: "/run/x" },
      apply: [],
      restartNeeded: ["agent_ttl", "gateway_endpoint", "units_dir"],
      registers: false,
    },
    { name: "both kinds at once", after: { verbosity: "warn", nats_servers: "nats://10.0.0.1:4222" }, apply: ["verbosity"], restartNeeded: ["nats_servers"], registers: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planReload(config(), config(c.after));
      expect(plan).toEqual({ apply: c.apply, restartNeeded: c.restartNeeded });
      expect(changesRegistration(plan)).toBe(c.registers);
    });
  }
});

describe("validateAgentConfig", () => {
  it("accepts the defaults and well-formed relay endpoints", () => {
    expect(() => validateAgentConfig(config())).not.toThrow();
    expect(() => validateAgentConfig(config({ api_endpoint: "10.0.0.1:49500,api.example:49500", api_http_endpoint: "http://10.0.0.1:49501/" }))).not.toThrow();
  });
  it("names the option that is wrong", () => {
    expect(() => validateAgentConfig(config({ agent_leave_on_stop: "sometimes" }))).toThrow('invalid value for agent_leave_on_stop: "sometimes" is not one of auto, always, never');
    expect(() => validateAgentConfig(config({ api_endpoint: "10.0.0.1" }))).toThrow('invalid value for api_endpoint: "10.0.0.1" is not host:port');
    expect(() => validateAgentConfig(config({ agent_api_socket: "fleet.sock" }))).toThrow("agent_api_socket");
  });
});

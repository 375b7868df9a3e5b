import { describe, expect, it } from "vitest";
import { resolveConfig } from "@fleet/domain";
import { gatewayConfigSchema, validateGatewayConfig } from "./config.js";

const configWith = (file: Record<string, string>) => resolveConfig(gatewayConfigSchema, new Map(Object.entries(file)), {});

describe("the gateway's configuration", () => {
  it("spreads a global unit's wake-ups at 1,000 machines a second unless told otherwise", () => {
    expect(configWith({}).hint_spread_rate).toBe(1000);
    expect(configWith({ hint_spread_rate: "0" }).hint_spread_rate).toBe(0);
  });

  it("refuses a rate that is not a whole number, or is negative, naming the option", () => {
    expect(() => configWith({ hint_spread_rate: "fast" })).toThrow(/hint_spread_rate/);
    expect(() => validateGatewayConfig(configWith({ hint_spread_rate: "-5" }))).toThrow(/invalid value for hint_spread_rate: "-5"/);
    expect(() => validateGatewayConfig(configWith({ hint_spread_rate: "2500" }))).not.toThrow();
  });
});

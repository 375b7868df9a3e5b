import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gatewayEndpointOption, loadServiceConfig } from "./service-config.js";

const dir = mkdtempSync(join(tmpdir(), "fleet-conf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const schema = { gateway_endpoint: gatewayEndpointOption } as const;

function load(fileText: string, env: Record<string, string> = {}) {
  const path = join(dir, "fleet.conf");
  writeFileSync(path, fileText);
  return loadServiceConfig(schema, ["--config", path], env);
}

describe("gateway_endpoint", () => {
  it("takes one gateway or a comma-separated list, from the file or FLEET_GATEWAY_ENDPOINT", () => {
    expect(load("").gateway_endpoint).toBe("127.0.0.1:49400");
    expect(load("gateway_endpoint = gw-1:49400, gw-2:49400").gateway_endpoint).toBe("gw-1:49400, gw-2:49400");
    expect(load("", { FLEET_GATEWAY_ENDPOINT: "10.0.0.1:1,10.0.0.2:1" }).gateway_endpoint).toBe("10.0.0.1:1,10.0.0.2:1");
  });

  it("refuses a list with a bad entry at start-up, naming the option", () => {
    expect(() => load("", { FLEET_GATEWAY_ENDPOINT: "10.0.0.1:1,nowhere" })).toThrow(
      'invalid value for gateway_endpoint: "10.0.0.1:1,nowhere" has an entry "nowhere" that is not host:port',
    );
    expect(() => load("gateway_endpoint = gw:1,")).toThrow("invalid value for gateway_endpoint");
  });
});

// One fleet.conf is shared by every process of a machine (deploy/systemd, deploy/k8s): each
// service's loader refuses options it does not know unless another service reads them
// (ALL_OPTION_NAMES). An option missing there makes the other services refuse to start.
import { describe, expect, it } from "vitest";
import { ALL_OPTION_NAMES } from "@fleet/wire";
import { agentConfigSchema } from "@fleet/agent";
import { apiConfigSchema } from "@fleet/api";
import { engineConfigSchema } from "@fleet/engine";
import { gatewayConfigSchema } from "@fleet/registry-gateway";

const schemas = { agent: agentConfigSchema, api: apiConfigSchema, engine: engineConfigSchema, "registry-gateway": gatewayConfigSchema };

describe("the shared fleet.conf", () => {
  it.each(Object.entries(schemas))("every option of the %s is known to the other services' loaders", (_service, schema) => {
    const known: readonly string[] = ALL_OPTION_NAMES;
    expect(Object.keys(schema).filter((option) => !known.includes(option))).toEqual([]);
  });
});

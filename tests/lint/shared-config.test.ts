// One fleet.conf is shared by every process of a machine (deploy/systemd, deploy/k8s): each
// service's loader refuses options it does not know unless another service reads them
// (ALL_OPTION_NAMES). An option missing there makes the other services refuse to start.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfigFile, resolveConfig } from "@fleet/domain";
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

const root = join(import.meta.dirname, "..", "..");
/** The fleet.conf of deploy/k8s's ConfigMap: its indented block. */
const k8sConf = () => {
  const yaml = readFileSync(join(root, "deploy/k8s/config.yaml"), "utf8");
  const block = yaml.slice(yaml.indexOf("fleet.conf: |") + "fleet.conf: |".length);
  return block.split("\n").map((line) => line.replace(/^ {4}/, "")).join("\n");
};

describe("deploy's fleet.conf files", () => {
  const files = { "deploy/fleet.conf.example": () => readFileSync(join(root, "deploy/fleet.conf.example"), "utf8"), "deploy/k8s/config.yaml": k8sConf };
  it.each(Object.entries(files))("%s turns auth on", (file, text) => {
    expect(parseConfigFile(text(), file).get("auth")).toBe("true");
  });
  for (const [file, text] of Object.entries(files)) {
    it.each(Object.entries(schemas))(`${file} is accepted by the %s`, (_service, schema) => {
      expect(() => resolveConfig(schema, parseConfigFile(text(), file), {}, ALL_OPTION_NAMES)).not.toThrow();
    });
  }
});

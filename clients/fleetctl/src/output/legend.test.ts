import { describe, expect, it } from "vitest";
import { formatMetadata, machineFullLegend, machineIdLegend, shortMachineId } from "./legend.js";

const id = "113f16a7b9c34d5e8f0a1b2c3d4e5f60";

describe("machine legends", () => {
  const cases: { label: string; got: () => string; want: string }[] = [
    { label: "short id", got: () => shortMachineId(id), want: "113f16a7" },
    { label: "id legend", got: () => machineIdLegend({ id }, false), want: "113f16a7..." },
    { label: "full id legend", got: () => machineIdLegend({ id }, true), want: id },
    { label: "full legend with IP", got: () => machineFullLegend({ id, publicIp: "10.0.0.3" }, false), want: "113f16a7.../10.0.0.3" },
    { label: "full legend, --full", got: () => machineFullLegend({ id, publicIp: "10.0.0.3" }, true), want: `${id}/10.0.0.3` },
    { label: "full legend without IP", got: () => machineFullLegend({ id, publicIp: "" }, false), want: "113f16a7..." },
    { label: "short ids shorter than 8", got: () => machineIdLegend({ id: "abc" }, false), want: "abc..." },
  ];
  for (const c of cases) it(c.label, () => expect(c.got()).toBe(c.want));
});

describe("formatMetadata", () => {
  const cases: { label: string; metadata: Record<string, string>; want: string }[] = [
    { label: "empty", metadata: {}, want: "" },
    { label: "sorted by key", metadata: { region: "us-west", az: "b", disk: "ssd" }, want: "az=b,disk=ssd,region=us-west" },
    { label: "operator values keep their operator", metadata: { ram: ">=2048", cpu: "4" }, want: "cpu=4,ram>=2048" },
  ];
  for (const c of cases) it(c.label, () => expect(formatMetadata(c.metadata)).toBe(c.want));
});

// list-machines, list-units and list-unit-files end to end against the in-memory FleetApi:
// fleet's tables, fields and legends.
import { parseUnitFile, unitHash, type UnitState } from "@fleet/domain";
import { describe, expect, it } from "vitest";
import type { UnitView } from "../api/fleet-api.js";
import { existing, GLOBAL, HELLO, m1, m2, setup } from "../cli/fleetctl-harness.js";

describe("list commands", () => {
  const states: UnitState[] = [
    { name: "world.service", hash: "abcdef0123", machineId: m2.id, loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" },
    { name: "hello.service", hash: "0123456789", machineId: m1.id, loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" },
  ];
  const units: UnitView[] = [
    existing("hello.service", HELLO, { desired: "launched", currentState: "launched", machineId: m1.id }),
    existing("agent.service", GLOBAL, { desired: "launched" }),
  ];

  const cases: { label: string; argv: string[]; stdout: string }[] = [
    {
      label: "list-machines",
      argv: ["list-machines"],
      stdout: "MACHINE\t\tIP\t\tMETADATA\n113f16a7...\t10.0.0.3\tregion=us-west\n9a8b7c6d...\t10.0.0.4\t-\n",
    },
    {
      label: "list-machines -l --no-legend",
      argv: ["list-machines", "-l", "--no-legend"],
      stdout: `${m1.id}\t10.0.0.3\tregion=us-west\n${m2.id}\t10.0.0.4\t-\n`,
    },
    {
      label: "list-units",
      argv: ["list-units"],
      stdout:
        "UNIT\t\tMACHINE\t\t\tACTIVE\tSUB\n" +
        "hello.service\t113f16a7.../10.0.0.3\tactive\trunning\n" +
        "world.service\t9a8b7c6d.../10.0.0.4\tactive\trunning\n",
    },
    {
      label: "list-units --fields=unit,hash,load",
      argv: ["list-units", "--fields=unit,hash,load"],
      stdout: "UNIT\t\tHASH\tLOAD\nhello.service\t0123456\tloaded\nworld.service\tabcdef0\tloaded\n",
    },
    {
      label: "list-unit-files",
      argv: ["list-unit-files"],
      stdout:
        "UNIT\t\tHASH\tDSTATE\t\tSTATE\t\tTARGET\n" +
        `agent.service\t${unitHash(parseUnitFile(GLOBAL)).slice(0, 7)}\tlaunched\t-\t\tglobal\n` +
        `hello.service\t${unitHash(parseUnitFile(HELLO)).slice(0, 7)}\tlaunched\tlaunched\t113f16a7.../10.0.0.3\n`,
    },
    {
      label: "list-unit-files --fields=unit,desc,global --no-legend",
      argv: ["list-unit-files", "--fields=unit,desc,global", "--no-legend"],
      stdout: "agent.service\t-\t\ttrue\nhello.service\tHello World\tfalse\n",
    },
  ];
  for (const c of cases) {
    it(c.label, async () => {
      const { run } = setup({ units, states });
      expect(await run(...c.argv)).toEqual({ code: 0, stdout: c.stdout, stderr: "" });
    });
  }

  it("an empty cluster prints only the legend", async () => {
    const { run } = setup({ machines: [] });
    expect(await run("list-units")).toEqual({ code: 0, stdout: "UNIT\tMACHINE\tACTIVE\tSUB\n", stderr: "" });
  });

  const errors: { label: string; argv: string[]; stderr: string; fail?: "listMachines" | "listUnitStates" | "listUnits" }[] = [
    { label: "unknown field", argv: ["list-units", "--fields=unit,bogus"], stderr: 'Invalid key in output format: "bogus"\n' },
    { label: "empty fields", argv: ["list-machines", "--fields="], stderr: "Must define output format\n" },
    {
      label: "machines unavailable",
      argv: ["list-machines"],
      fail: "listMachines",
      stderr: "Error retrieving list of active machines from fleet API (unavailable)\n",
    },
    {
      label: "unit states unavailable",
      argv: ["list-units"],
      fail: "listUnitStates",
      stderr: "Error retrieving list of units from repository: unavailable\n",
    },
    {
      label: "units unavailable",
      argv: ["list-unit-files"],
      fail: "listUnits",
      stderr: "Error retrieving list of units from repository: unavailable\n",
    },
  ];
  for (const c of errors) {
    it(`fails: ${c.label}`, async () => {
      const { api, run } = setup({ units, states });
      if (c.fail) api.failOn(c.fail, new Error("unavailable"));
      expect(await run(...c.argv)).toEqual({ code: 1, stdout: "", stderr: c.stderr });
    });
  }

  it("warns that tmachine is deprecated", async () => {
    const { run } = setup({ units });
    const result = await run("list-unit-files", "--fields=unit,tmachine");
    expect(result.stderr).toBe('WARNING: The "tmachine" field is deprecated. Use "target" instead\n');
    expect(result.code).toBe(0);
  });
});

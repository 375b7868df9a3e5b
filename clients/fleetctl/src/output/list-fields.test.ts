import type { Machine, Unit, UnitState } from "@fleet/domain";
import { unitHash } from "@fleet/domain";
import { describe, expect, it } from "vitest";
import type { UnitView } from "../api/fleet-api.js";
import {
  DEFAULT_LIST_MACHINES_FIELDS,
  DEFAULT_LIST_UNIT_FILES_FIELDS,
  DEFAULT_LIST_UNITS_FIELDS,
  LIST_MACHINES_FIELDS,
  listUnitFilesFields,
  listUnitsFields,
  machinesById,
  parseFields,
  renderTable,
  sortMachines,
  sortUnitStates,
  sortUnitViews,
  type Fields,
  unitDescription,
} from "./list-fields.js";

const m1: Machine = { id: "113f16a7b9c34d5e8f0a1b2c3d4e5f60", publicIp: "10.0.0.3", metadata: { region: "us-west", az: "b" } };
const m2: Machine = { id: "9a8b7c6d5e4f30211203405060708090", publicIp: "10.0.0.4", metadata: {} };
const machines = machinesById([m1, m2]);

const helloOptions = [
  { section: "Unit", name: "Description", value: "Hello World" },
  { section: "Service", name: "ExecStart", value: "/bin/sleep 100" },
];
const helloHash = unitHash(helloOptions);
const unit = (name: string, options: Unit["options"], desiredState: Unit["desiredState"]): Unit => ({
  name,
  options,
  hash: unitHash(options),
  desiredState,
});
const state = (name: string, machineId: string, active: string, sub: string): UnitState => ({
  name,
  hash: helloHash,
  machineId,
  loadState: "loaded",
  activeState: active,
  subState: sub,
  currentState: "launched",
});

function table<T>(flag: string, fields: Fields<T>, rows: T[], full = false, noLegend = false): string {
  const parsed = parseFields(flag, fields);
  if ("error" in parsed) throw new Error(parsed.error);
  return renderTable(parsed.columns, fields, rows, { full, noLegend });
}

describe("list-machines", () => {
  const rows = sortMachines([m2, m1]);
  const cases: { label: string; flag: string; full?: boolean; noLegend?: boolean; want: string }[] = [
    {
      label: "default columns",
      flag: DEFAULT_LIST_MACHINES_FIELDS,
      want: "MACHINE\t\tIP\t\tMETADATA\n113f16a7...\t10.0.0.3\taz=b,region=us-west\n9a8b7c6d...\t10.0.0.4\t-\n",
    },
    {
      label: "--full",
      flag: DEFAULT_LIST_MACHINES_FIELDS,
      full: true,
      want:
        "MACHINE\t\t\t\t\tIP\t\tMETADATA\n" +
        "113f16a7b9c34d5e8f0a1b2c3d4e5f60\t10.0.0.3\taz=b,region=us-west\n" +
        "9a8b7c6d5e4f30211203405060708090\t10.0.0.4\t-\n",
    },
    {
      label: "--no-legend --fields=ip",
      flag: "ip",
      noLegend: true,
      want: "10.0.0.3\n10.0.0.4\n",
    },
  ];
  for (const c of cases) it(c.label, () => expect(table(c.flag, LIST_MACHINES_FIELDS, rows, c.full, c.noLegend)).toBe(c.want));
});

describe("list-units", () => {
  const rows = sortUnitStates([
    state("world.service", m2.id, "activating", "start-pre"),
    state("hello.service", m1.id, "active", "running"),
    { ...state("gone.service", "deadbeefcafe0000", "failed", "failed"), hash: "" },
  ]);
  const fields = listUnitsFields(machines);
  const cases: { label: string; flag: string; full?: boolean; noLegend?: boolean; want: string }[] = [
    {
      label: "default columns, unknown machine shows its id alone",
      flag: DEFAULT_LIST_UNITS_FIELDS,
      want:
        "UNIT\t\tMACHINE\t\t\tACTIVE\t\tSUB\n" +
        "gone.service\tdeadbeef...\t\tfailed\t\tfailed\n" +
        "hello.service\t113f16a7.../10.0.0.3\tactive\t\trunning\n" +
        "world.service\t9a8b7c6d.../10.0.0.4\tactivating\tstart-pre\n",
    },
    {
      label: "load and hash, --full, empty hash as -",
      flag: "unit,load,hash",
      full: true,
      want: `UNIT\t\tLOAD\tHASH\ngone.service\tloaded\t-\nhello.service\tloaded\t${helloHash}\nworld.service\tloaded\t${helloHash}\n`,
    },
    {
      label: "short hash, no legend",
      flag: "hash",
      noLegend: true,
      want: `-\n${helloHash.slice(0, 7)}\n${helloHash.slice(0, 7)}\n`,
    },
  ];
  for (const c of cases) it(c.label, () => expect(table(c.flag, fields, rows, c.full, c.noLegend)).toBe(c.want));
});

describe("list-unit-files", () => {
  const globalOptions = [{ section: "X-Fleet", name: "Global", value: "true" }, ...helloOptions];
  const rows = sortUnitViews([
    { unit: unit("hello.service", helloOptions, "launched"), machineId: m1.id, currentState: "launched", reason: "" },
    { unit: unit("agent.service", globalOptions, "launched"), machineId: "", currentState: "inactive", reason: "" },
    { unit: unit("idle.service", [{ section: "Service", name: "ExecStart", value: "/bin/true" }], "inactive"), machineId: "", currentState: "inactive", reason: "" },
  ] satisfies UnitView[]);
  const fields = listUnitFilesFields(machines);
  const h = (options: Unit["options"]) => unitHash(options).slice(0, 7);
  const cases: { label: string; flag: string; full?: boolean; want: string }[] = [
    {
      label: "default columns",
      flag: DEFAULT_LIST_UNIT_FILES_FIELDS,
      want:
        "UNIT\t\tHASH\tDSTATE\t\tSTATE\t\tTARGET\n" +
        `agent.service\t${h(globalOptions)}\tlaunched\t-\t\tglobal\n` +
        `hello.service\t${h(helloOptions)}\tlaunched\tlaunched\t113f16a7.../10.0.0.3\n` +
        `idle.service\t${h([{ section: "Service", name: "ExecStart", value: "/bin/true" }])}\tinactive\tinactive\t-\n`,
    },
    {
      label: "global, desc and tmachine",
      flag: "unit,global,desc,tmachine",
      want:
        "UNIT\t\tGLOBAL\tDESC\t\tTMACHINE\n" +
        "agent.service\ttrue\tHello World\tglobal\n" +
        "hello.service\tfalse\tHello World\t113f16a7.../10.0.0.3\n" +
        "idle.service\tfalse\t-\t\t-\n",
    },
  ];
  for (const c of cases) it(c.label, () => expect(table(c.flag, fields, rows, c.full)).toBe(c.want));
});

describe("parseFields", () => {
  it("rejects an empty format", () => {
    expect(parseFields("", LIST_MACHINES_FIELDS)).toEqual({ error: "Must define output format" });
  });
  it("rejects an unknown field", () => {
    expect(parseFields("machine,bogus", LIST_MACHINES_FIELDS)).toEqual({ error: 'Invalid key in output format: "bogus"' });
  });
  it("does not accept inherited property names", () => {
    expect(parseFields("toString", LIST_MACHINES_FIELDS)).toEqual({ error: 'Invalid key in output format: "toString"' });
  });
});

describe("unitDescription", () => {
  it("is the first Description of [Unit]", () => {
    expect(
      unitDescription([
        { section: "Service", name: "Description", value: "no" },
        { section: "Unit", name: "Description", value: "Hello" },
        { section: "Unit", name: "Description", value: "Later" },
      ]),
    ).toBe("Hello");
  });
  it("is empty without one", () => expect(unitDescription([])).toBe(""));
});

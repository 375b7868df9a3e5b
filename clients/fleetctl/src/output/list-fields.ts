// The columns of fleetctl's list commands, as fleet defines them, and the table they make.
// Pure: the commands fetch the rows and the machines, these functions only format.
import { isGlobalUnit, shortHash, unitHash, type Machine, type UnitOption, type UnitState } from "@fleet/domain";
import type { UnitView } from "../api/fleet-api.js";
import { formatMetadata, machineFullLegend, machineIdLegend } from "./legend.js";
import { formatTable } from "./tabwriter.js";

/** The first Description= of the [Unit] section, or "". */
export function unitDescription(options: readonly UnitOption[]): string {
  return options.find((o) => o.section === "Unit" && o.name === "Description")?.value ?? "";
}

export type Field<T> = (row: T, full: boolean) => string;
export type Fields<T> = Readonly<Record<string, Field<T>>>;
export type Machines = ReadonlyMap<string, Machine>;

export const DEFAULT_LIST_MACHINES_FIELDS = "machine,ip,metadata";
export const DEFAULT_LIST_UNITS_FIELDS = "unit,machine,active,sub";
export const DEFAULT_LIST_UNIT_FILES_FIELDS = "unit,hash,dstate,state,target";

export const LIST_MACHINES_FIELDS: Fields<Machine> = {
  machine: (m, full) => machineIdLegend(m, full),
  ip: (m) => m.publicIp,
  metadata: (m) => formatMetadata(m.metadata),
};

/** A machine's legend, "abcdef12..." alone when the machine is not (or no longer) known. */
function machineLegend(machines: Machines, id: string, full: boolean): string {
  if (id === "") return "";
  return machineFullLegend(machines.get(id) ?? { id, publicIp: "" }, full);
}

export function listUnitsFields(machines: Machines): Fields<UnitState> {
  return {
    unit: (s) => s.name,
    machine: (s, full) => machineLegend(machines, s.machineId, full),
    active: (s) => s.activeState,
    sub: (s) => s.subState,
    load: (s) => s.loadState,
    hash: (s, full) => (full ? s.hash : shortHash(s.hash)),
  };
}

export function listUnitFilesFields(machines: Machines): Fields<UnitView> {
  const target: Field<UnitView> = (v, full) =>
    isGlobalUnit(v.unit.options) ? "global" : machineLegend(machines, v.machineId, full);
  return {
    unit: (v) => v.unit.name,
    hash: (v, full) => {
      const hash = unitHash(v.unit.options);
      return full ? hash : shortHash(hash);
    },
    dstate: (v) => v.unit.desiredState,
    state: (v) => (isGlobalUnit(v.unit.options) ? "" : v.currentState),
    target,
    tmachine: target,
    global: (v) => String(isGlobalUnit(v.unit.options)),
    desc: (v) => unitDescription(v.unit.options),
    // Not one of fleet's fields: why the unit is not placed (empty when it is).
    reason: (v) => (v.machineId === "" ? v.reason : ""),
  };
}

/** The columns a --fields value asks for, or the message fleetctl prints when it is wrong. */
export function parseFields<T>(flag: string, fields: Fields<T>): { columns: string[] } | { error: string } {
  if (flag === "") return { error: "Must define output format" };
  const columns = flag.split(",");
  for (const column of columns) {
    if (!Object.hasOwn(fields, column)) return { error: `Invalid key in output format: ${JSON.stringify(column)}` };
  }
  return { columns };
}

export interface TableOptions {
  readonly full: boolean;
  readonly noLegend: boolean;
}

/** The table: a legend of upper-cased column names unless --no-legend, "-" for empty cells. */
export function renderTable<T>(columns: readonly string[], fields: Fields<T>, rows: readonly T[], options: TableOptions): string {
  const lines: string[][] = [];
  if (!options.noLegend) lines.push(columns.map((c) => c.toUpperCase()));
  for (const row of rows) {
    lines.push(
      columns.map((c) => {
        const field = fields[c];
        const value = field ? field(row, options.full) : "";
        return value === "" ? "-" : value;
      }),
    );
  }
  return formatTable(lines);
}

export function machinesById(machines: readonly Machine[]): Map<string, Machine> {
  return new Map(machines.map((m) => [m.id, m]));
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Rows in fleet's order: machines by id, unit states by unit then machine, units by name. */
export function sortMachines(machines: readonly Machine[]): Machine[] {
  return [...machines].sort((a, b) => byString(a.id, b.id));
}

export function sortUnitStates(states: readonly UnitState[]): UnitState[] {
  return [...states].sort((a, b) => byString(a.name, b.name) || byString(a.machineId, b.machineId));
}

export function sortUnitViews(views: readonly UnitView[]): UnitView[] {
  return [...views].sort((a, b) => byString(a.unit.name, b.unit.name));
}

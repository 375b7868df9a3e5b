// list-machines, list-units and list-unit-files: fetch, then format with list-fields.ts.
import type { Machine } from "@fleet/domain";
import { boolFlag, stringFlag, type FlagValues } from "./argv.js";
import { LIST_FLAGS, OUTPUT_FLAG, type Command } from "./command.js";
import { machinesJson, outputFormat, renderJson, unitFilesJson, unitStatesJson } from "../output/json-output.js";
import { watchList } from "./watch-list.js";
import { errorMessage, warn, type CommandContext } from "../context/context.js";
import type { MachineHealth } from "../api/fleet-api.js";
import {
  DEFAULT_LIST_MACHINES_FIELDS,
  DEFAULT_LIST_UNIT_FILES_FIELDS,
  DEFAULT_LIST_UNITS_FIELDS,
  LIST_MACHINES_FIELDS,
  listUnitFilesFields,
  listUnitsFields,
  parseFields,
  renderTable,
  sortMachines,
  sortUnitStates,
  sortUnitViews,
  type Fields,
} from "../output/list-fields.js";

const UNIT_FIELD_NAMES = Object.keys(listUnitsFields(new Map())).sort();
const UNIT_FILE_FIELD_NAMES = Object.keys(listUnitFilesFields(new Map())).sort();
const MACHINE_FIELD_NAMES = Object.keys(LIST_MACHINES_FIELDS);

/** Validates --fields and --output, fetches the rows, prints the table (or the JSON document). */
async function list<T>(
  ctx: CommandContext,
  flags: FlagValues,
  fields: (machines: ReadonlyMap<string, Machine>) => Fields<T>,
  fetch: () => Promise<T[]>,
  fetchError: (message: string) => string,
  json: (rows: T[], machines: ReadonlyMap<string, Machine>) => unknown,
  o: { withMachines?: boolean; compactJson?: boolean } = {},
): Promise<number> {
  const withMachines = o.withMachines ?? true;
  const parsed = parseFields(stringFlag(flags, "fields"), fields(new Map()));
  if ("error" in parsed) {
    warn(ctx, parsed.error);
    return 1;
  }
  const format = outputFormat(stringFlag(flags, "output"));
  if (typeof format !== "string") {
    warn(ctx, format.error);
    return 1;
  }
  // The machines are asked for alongside the rows; their failure counts only once the rows came.
  const machinesAsked = withMachines ? ctx.machines.all() : Promise.resolve(new Map<string, Machine>());
  machinesAsked.catch(() => undefined);
  let rows: T[];
  try {
    rows = await fetch();
  } catch (err) {
    warn(ctx, fetchError(errorMessage(err)));
    return 1;
  }
  const machines = await machinesAsked;
  if (format === "json") {
    ctx.output.stdout(o.compactJson ? `${JSON.stringify(json(rows, machines))}\n` : renderJson(json(rows, machines)));
    return 0;
  }
  ctx.output.stdout(
    renderTable(parsed.columns, fields(machines), rows, { full: boolFlag(flags, "full"), noLegend: boolFlag(flags, "no-legend") }),
  );
  return 0;
}

export const listMachinesCommand: Command = {
  name: "list-machines",
  summary: "Enumerate the current hosts in the cluster",
  usage: "[-l|--full] [--no-legend]",
  description: `Lists all active machines within the cluster. Previously active machines will not appear in this list.

For easily parsable output, you can remove the column headers:
fleetctl list-machines --no-legend

Output the list without truncation:
fleetctl list-machines --full`,
  flags: [...LIST_FLAGS(DEFAULT_LIST_MACHINES_FIELDS, "Machine", MACHINE_FIELD_NAMES), OUTPUT_FLAG],
  async run(ctx, flags) {
    const health = ctx.api.machineHealth?.().catch(() => undefined);
    const code = await list(ctx, flags, () => LIST_MACHINES_FIELDS, async () => sortMachines(await ctx.api.listMachines()), (m) => `Error retrieving list of active machines from fleet API (${m})`, (rows) => machinesJson(rows), { withMachines: false });
    if (code === 0) for (const line of healthWarnings(await health)) warn(ctx, line);
    return code;
  },
};

/** What list-machines adds on stderr: a mass loss, and machines units stay on while they are missing. */
export function healthWarnings(health: MachineHealth | undefined): string[] {
  if (!health) return [];
  const lines = health.massLoss ? [`Warning: ${health.massLoss}`] : [];
  for (const h of health.heldMachines) {
    const why = h.reason && h.reason !== health.massLoss ? `: ${h.reason}` : "";
    lines.push(`Machine ${h.machineId} is not responding; units placed on it stay there${why}`);
  }
  return lines;
}

export const listUnitsCommand: Command = {
  name: "list-units",
  summary: "List the current state of units in the cluster",
  usage: "[--no-legend] [-l|--full] [--fields]",
  description: `Lists the state of all units in the cluster loaded onto a machine.

For easily parsable output, you can remove the column headers:
fleetctl list-units --no-legend

Output the list without ellipses:
fleetctl list-units --full

Or, choose the columns to display:
fleetctl list-units --fields=unit,machine`,
  flags: [
    ...LIST_FLAGS(DEFAULT_LIST_UNITS_FIELDS, "Unit", UNIT_FIELD_NAMES),
    OUTPUT_FLAG,
    { name: "watch", kind: "bool", default: false, short: "w", usage: "Draw the list again on every change, until Ctrl-C (with --output json: one document per line)" },
  ],
  async run(ctx, flags) {
    const watching = boolFlag(flags, "watch");
    const draw = () =>
      list(ctx, flags, listUnitsFields, async () => sortUnitStates(await ctx.api.listUnitStates()), (m) => `Error retrieving list of units from repository: ${m}`, unitStatesJson, {
        compactJson: watching,
      });
    return watching ? watchList(ctx, draw) : draw();
  },
};

export const listUnitFilesCommand: Command = {
  name: "list-unit-files",
  summary: "List the units that exist in the cluster.",
  usage: "[--fields]",
  description: "Lists all unit files that exist in the cluster (whether or not they are loaded onto a machine).",
  flags: [...LIST_FLAGS(DEFAULT_LIST_UNIT_FILES_FIELDS, "Unit file", UNIT_FILE_FIELD_NAMES), OUTPUT_FLAG],
  async run(ctx, flags) {
    const parsed = parseFields(stringFlag(flags, "fields"), listUnitFilesFields(new Map()));
    if (!("error" in parsed) && parsed.columns.includes("tmachine")) {
      warn(ctx, 'WARNING: The "tmachine" field is deprecated. Use "target" instead');
    }
    return list(ctx, flags, listUnitFilesFields, async () => sortUnitViews(await ctx.api.listUnits()), (m) => `Error retrieving list of units from repository: ${m}`, unitFilesJson);
  },
};

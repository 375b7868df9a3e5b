// The shape of a fleetctl command, and the flags several commands share (fleet's sharedFlags).
import type { FlagSpec, FlagValues } from "./argv.js";
import { boolFlag, numberFlag } from "./argv.js";
import type { CommandContext } from "../context/context.js";

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly description: string;
  readonly flags: readonly FlagSpec[];
  /** False for commands that never talk to the cluster (no connection, no tunnel). */
  readonly needsApi?: boolean;
  run(ctx: CommandContext, flags: FlagValues, args: readonly string[]): Promise<number>;
}

const NO_LIMIT = "performing up to N attempts before giving up. A value of 0 indicates no limit.";
const NOT_GLOBAL = " Does not apply to global units.";
const ALWAYS_GLOBAL = " Always the case for global units.";

/** fleet 1.0's words for each command's --block-attempts and --no-block. */
const BLOCK_USAGES = {
  load: [`Wait until the jobs are loaded, ${NO_LIMIT}${NOT_GLOBAL}`, `Do not wait until the jobs have been loaded before exiting.${ALWAYS_GLOBAL}`],
  start: [`Wait until the units are launched, ${NO_LIMIT}${NOT_GLOBAL}`, `Do not wait until the units have launched before exiting.${ALWAYS_GLOBAL}`],
  stop: [`Wait until the units are stopped, ${NO_LIMIT}${NOT_GLOBAL}`, `Do not wait until the units have stopped before exiting.${ALWAYS_GLOBAL}`],
  unload: [`Wait until the units are inactive, ${NO_LIMIT}`, "Do not wait until the units have become inactive before exiting."],
  destroy: [`Wait until the units are destroyed, ${NO_LIMIT}${NOT_GLOBAL}`, `Do not wait until the units are destroyed before exiting.${ALWAYS_GLOBAL}`],
} as const;

/** --block-attempts and --no-block of a command, with fleet's usage lines. */
export function blockFlags(command: keyof typeof BLOCK_USAGES): FlagSpec[] {
  const [block, noBlock] = BLOCK_USAGES[command];
  return [
    { name: "block-attempts", kind: "int", default: 0, usage: block },
    { name: "no-block", kind: "bool", default: false, usage: noBlock },
  ];
}

export const SIGN_FLAG: FlagSpec = { name: "sign", kind: "bool", default: false, usage: "DEPRECATED - this option cannot be used" };

/** fleet 1.0's words for each command's --replace. */
const REPLACE_USAGES = {
  submit: "Replace the old submitted units in the cluster with new versions.",
  load: "Replace the old scheduled units in the cluster with new versions.",
  start: "Replace the already started units in the cluster with new versions.",
} as const;

export function replaceFlag(command: keyof typeof REPLACE_USAGES): FlagSpec {
  return { name: "replace", kind: "bool", default: false, usage: REPLACE_USAGES[command] };
}

export const LIST_FLAGS = (fields: string, what: string, validFields: readonly string[]): FlagSpec[] => [
  { name: "full", kind: "bool", default: false, short: "l", usage: "Do not ellipsize fields on output" },
  { name: "no-legend", kind: "bool", default: false, usage: "Do not print a legend (column headers)" },
  {
    name: "fields",
    kind: "string",
    default: fields,
    usage: `Columns to print for each ${what}. Valid fields are ${JSON.stringify(validFields.join(","))}`,
  },
];

/** -o/--output: fleet's tables, or one JSON document with fleet's HTTP API v1 field names (docs/fleetctl.md). */
export const OUTPUT_FLAG: FlagSpec = { name: "output", kind: "string", default: "table", short: "o", usage: "Output format: table (fleet's) or json (stable field names, see docs/fleetctl.md)" };

/**
 * fleet's getBlockAttempts: -1 means do not wait (--no-block), 0 wait forever, N give up
 * after N attempts.
 */
export function blockAttempts(flags: FlagValues): number {
  if (boolFlag(flags, "no-block")) return -1;
  const n = numberFlag(flags, "block-attempts");
  return n > 0 ? n : 0;
}

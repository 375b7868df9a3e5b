// The shape of a fleetctl command, and the flags several commands share (fleet's sharedFlags).
import type { FlagSpec, FlagValues } from "./argv.js";
import { boolFlag, numberFlag } from "./argv.js";
import type { CommandContext } from "./context.js";

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

export function blockFlags(verb: string, state: string): FlagSpec[] {
  return [
    {
      name: "block-attempts",
      kind: "int",
      default: 0,
      usage: `Wait until the units are ${state}, performing up to N attempts before giving up. A value of 0 indicates no limit. Does not apply to global units.`,
    },
    {
      name: "no-block",
      kind: "bool",
      default: false,
      usage: `Do not wait until the units have ${verb} before exiting. Always the case for global units.`,
    },
  ];
}

export const SIGN_FLAG: FlagSpec = { name: "sign", kind: "bool", default: false, usage: "DEPRECATED - this option cannot be used" };

export const REPLACE_FLAG: FlagSpec = {
  name: "replace",
  kind: "bool",
  default: false,
  usage: "Replace the old units in the cluster with new versions.",
};

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

/**
 * fleet's getBlockAttempts: -1 means do not wait (--no-block), 0 wait forever, N give up
 * after N attempts.
 */
export function blockAttempts(flags: FlagValues): number {
  if (boolFlag(flags, "no-block")) return -1;
  const n = numberFlag(flags, "block-attempts");
  return n > 0 ? n : 0;
}

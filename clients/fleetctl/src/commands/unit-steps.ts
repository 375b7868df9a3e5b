// Steps the unit commands share: finding the named units (all or none), fleet's "No units
// given", waiting for their states with fleet's lines, and fleet's way of printing a list.
import type { TargetState } from "@fleet/domain";
import type { UnitView } from "../api/fleet-api.js";
import { unitNameOfArg } from "../units/unit-args.js";
import { waitForUnitStates } from "../units/wait.js";
import { say, warn, type CommandContext } from "../context/context.js";

/**
 * fleet's tryWaitForUnitStates: with --no-block, "Triggered unit x start" for each unit;
 * otherwise wait and print "Unit x launched on ...". When a unit does not get there in time,
 * fleet's "Error waiting for units: <error>" for the first one; returns that error.
 */
export async function tryWaitForUnitStates(
  ctx: CommandContext,
  names: readonly string[],
  verb: string,
  target: TargetState,
  attempts: number,
): Promise<string | undefined> {
  if (attempts < 0) {
    for (const name of names) say(ctx, `Triggered unit ${name} ${verb}`);
    return undefined;
  }
  const [error] = await waitForUnitStates(ctx, names, target, attempts);
  if (error !== undefined) warn(ctx, `Error waiting for units: ${error}`);
  return error;
}

/** A list of names as fleet printed them (Go's %v of a []string): "[a.service b.service]", "[]". */
export function goList(names: readonly string[]): string {
  return `[${names.join(" ")}]`;
}

/**
 * The units named by the arguments, all of them or none: an unknown unit is reported as
 * "Unit x not found" and the command changes nothing.
 */
export async function findUnits(ctx: CommandContext, args: readonly string[]): Promise<UnitView[] | undefined> {
  const names = [...new Set(args.map(unitNameOfArg))];
  const views = await Promise.all(names.map((name) => ctx.api.getUnit(name)));
  const missing = names.filter((_, i) => views[i] === undefined);
  for (const name of missing) warn(ctx, `Unit ${name} not found`);
  if (missing.length > 0) return undefined;
  return views.filter((v): v is UnitView => v !== undefined);
}

export function noUnits(ctx: CommandContext, args: readonly string[]): boolean {
  if (args.length > 0) return false;
  warn(ctx, "No units given");
  return true;
}

// fleet's lazyCreateUnits, for submit/load/start: make sure a unit exists for every argument,
// trying in order (1) a unit by that name in the cluster, (2) the file on disk, (3) for an
// instance foo@1.service, its template foo@.service in the cluster, (4) the template file
// beside the argument. New units are created inactive, then waited for like fleet does.
import {
  parseUnitFile,
  templateNameOf,
  UnitFileError,
  unitHash,
  unitNameError,
  type UnitOption,
} from "@fleet/domain";
import { errorMessage, say, warn, type CommandContext } from "./context.js";
import type { UnitView } from "./fleet-api.js";
import { baseName, dirName, joinPath, unitNameOfArg, withDefaultUnitType } from "./unit-args.js";
import { waitForUnitStates } from "./wait.js";

/** A failure with the message fleetctl prints after "Error creating units: ". */
export class CreateUnitsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CreateUnitsError";
  }
}

/** A local unit file's options; undefined when the file does not exist. */
async function readUnitFile(ctx: CommandContext, path: string): Promise<UnitOption[] | undefined> {
  const text = await ctx.files.readFile(path);
  if (text === undefined) return undefined;
  return parseUnitFile(text);
}

function describeFileError(err: unknown): string {
  return err instanceof UnitFileError ? err.message : errorMessage(err);
}

/** A local file whose contents differ from the cluster's unit. */
interface LocalDifference {
  readonly file: string;
  readonly template: boolean;
  readonly options: UnitOption[];
}

/**
 * fleet's isLocalUnitDifferent: the local unit file (or, for an instance without one, its
 * template beside it) when its contents differ from the cluster's unit. Unreadable files count
 * as no difference: the cluster's unit is used.
 */
async function localDifference(ctx: CommandContext, path: string, existing: UnitView): Promise<LocalDifference | undefined> {
  const clusterHash = unitHash(existing.unit.options);
  try {
    const local = await readUnitFile(ctx, path);
    if (local !== undefined) return unitHash(local) !== clusterHash ? { file: path, template: false, options: local } : undefined;
    const template = templateNameOf(baseName(path));
    if (template === undefined) return undefined;
    const local2 = await readUnitFile(ctx, joinPath(dirName(path), template));
    return local2 !== undefined && unitHash(local2) !== clusterHash ? { file: path, template: true, options: local2 } : undefined;
  } catch {
    return undefined;
  }
}

function warnDifference(ctx: CommandContext, name: string, d: LocalDifference): void {
  const what = d.template ? "local template unit file" : "local unit file";
  warn(ctx, `WARNING: Unit ${name} in registry differs from ${what} ${d.file}. Add --replace to override.`);
}

/** The commands that create units, and the desired states of units each may replace (fleet's checkReplaceUnitState). */
export type CreatingCommand = "submit" | "load" | "start";
const REPLACEABLE: Record<CreatingCommand, readonly string[]> = {
  submit: ["inactive"],
  load: ["inactive", "loaded"],
  start: ["inactive", "loaded", "launched"],
};

export interface CreateOptions {
  readonly command: CreatingCommand;
  /** --replace: a unit whose local file changed is destroyed and created again from it. */
  readonly replace: boolean;
}

/** The options for a unit that is not in the cluster yet: from its file, or its template's. */
async function findUnitOptions(ctx: CommandContext, path: string, name: string): Promise<UnitOption[]> {
  let local: UnitOption[] | undefined;
  try {
    local = await readUnitFile(ctx, path);
  } catch (err) {
    throw new CreateUnitsError(`failed getting Unit(${path}) from file: ${describeFileError(err)}`);
  }
  if (local !== undefined) return local;

  const template = templateNameOf(name);
  if (template === undefined) throw new CreateUnitsError(`unable to find Unit(${name}) in Registry or on filesystem`);

  let registered: UnitView | undefined;
  try {
    registered = await ctx.api.getUnit(template);
  } catch (err) {
    throw new CreateUnitsError(`error retrieving template Unit(${template}) from Registry: ${errorMessage(err)}`);
  }
  if (registered) {
    const d = await localDifference(ctx, path, registered);
    if (d) warnDifference(ctx, registered.unit.name, d);
    return [...registered.unit.options];
  }

  const templatePath = joinPath(dirName(path), template);
  let fromFile: UnitOption[] | undefined;
  try {
    fromFile = await readUnitFile(ctx, templatePath);
  } catch (err) {
    throw new CreateUnitsError(
      `failed getting Unit(${path}) from template: unable to load template Unit(${template}) from file: ${describeFileError(err)}`,
    );
  }
  if (fromFile === undefined) {
    throw new CreateUnitsError(`failed getting Unit(${path}) from template: unable to find template Unit(${template}) in Registry or on filesystem`);
  }
  return fromFile;
}

/**
 * Ensures a unit exists for each argument. Throws CreateUnitsError (nothing more is created
 * after the first failure, as in fleet). Prints "Unit x inactive" for each unit it created.
 * With --replace, a unit whose local file differs is destroyed and created again (inactive, as
 * fleet creates it; load and start then bring it to their state).
 */
export async function lazyCreateUnits(ctx: CommandContext, args: readonly string[], blockAttempts: number, options: CreateOptions): Promise<void> {
  const created: string[] = [];
  for (const raw of args) {
    const path = withDefaultUnitType(raw);
    const name = unitNameOfArg(raw);
    const invalid = unitNameError(name);
    if (invalid !== undefined) throw new CreateUnitsError(invalid);

    let existing: UnitView | undefined;
    try {
      existing = await ctx.api.getUnit(name);
    } catch (err) {
      throw new CreateUnitsError(`error retrieving Unit(${name}) from Registry: ${errorMessage(err)}`);
    }
    let unitOptions: UnitOption[];
    if (existing) {
      const d = await localDifference(ctx, path, existing);
      if (!options.replace) {
        if (d) warnDifference(ctx, name, d);
        continue;
      }
      if (!d) {
        say(ctx, `Found same Unit(${name}) in Registry, nothing to do`);
        continue;
      }
      if (!REPLACEABLE[options.command].includes(existing.unit.desiredState)) {
        warn(ctx, `Warning: can not replace Unit(${name}) in state '${existing.unit.desiredState}', use the appropriate command`);
        continue;
      }
      try {
        await ctx.api.destroyUnit(name);
      } catch (err) {
        throw new CreateUnitsError(`failed replacing unit ${name}: ${errorMessage(err)}`);
      }
      unitOptions = d.options;
    } else {
      unitOptions = await findUnitOptions(ctx, path, name);
    }
    try {
      await ctx.api.createUnit({ name, options: unitOptions, hash: unitHash(unitOptions), desiredState: "inactive" });
    } catch (err) {
      throw new CreateUnitsError(`failed creating unit ${name}: ${errorMessage(err)}`);
    }
    created.push(name);
  }

  const errors = await waitForUnitStates(ctx, created, "inactive", blockAttempts);
  for (const error of errors) warn(ctx, `Error waiting on unit creation: ${error}`);
  if (errors.length > 0) throw new CreateUnitsError("One or more errors creating units");
}

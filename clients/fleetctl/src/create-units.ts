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
import { errorMessage, warn, type CommandContext } from "./context.js";
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

/** Warns, as fleet does, when the cluster's unit differs from the local file (or template) it came from. */
async function warnOnDifferentLocalUnit(ctx: CommandContext, path: string, existing: UnitView): Promise<void> {
  const clusterHash = unitHash(existing.unit.options);
  try {
    const local = await readUnitFile(ctx, path);
    if (local !== undefined) {
      if (unitHash(local) !== clusterHash) {
        warn(ctx, `WARNING: Unit ${existing.unit.name} in registry differs from local unit file ${path}`);
      }
      return;
    }
    const template = templateNameOf(baseName(path));
    if (template === undefined) return;
    const local2 = await readUnitFile(ctx, joinPath(dirName(path), template));
    if (local2 !== undefined && unitHash(local2) !== clusterHash) {
      warn(ctx, `WARNING: Unit ${existing.unit.name} in registry differs from local template unit file ${template}`);
    }
  } catch {
    // An unreadable local file is no reason to warn (or to fail): the cluster's unit is used.
  }
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
    await warnOnDifferentLocalUnit(ctx, path, registered);
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
 */
export async function lazyCreateUnits(ctx: CommandContext, args: readonly string[], blockAttempts: number): Promise<void> {
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
    if (existing) {
      await warnOnDifferentLocalUnit(ctx, path, existing);
      continue;
    }

    const options = await findUnitOptions(ctx, path, name);
    try {
      await ctx.api.createUnit({ name, options, hash: unitHash(options), desiredState: "inactive" });
    } catch (err) {
      throw new CreateUnitsError(`failed creating unit ${name}: ${errorMessage(err)}`);
    }
    created.push(name);
  }

  const errors = await waitForUnitStates(ctx, created, "inactive", blockAttempts);
  for (const error of errors) warn(ctx, `Error waiting on unit creation: ${error}`);
  if (errors.length > 0) throw new CreateUnitsError("One or more errors creating units");
}

// fleet's lazyCreateUnits, for submit/load/start: make sure a unit exists for every argument,
// trying in order (1) a unit by that name in the cluster, (2) the file on disk, (3) for an
// instance foo@1.service, its template foo@.service in the cluster, (4) the template file
// beside the argument. New units are created at the desired state of the command.
import {
  parseUnitFile,
  templateNameOf,
  UnitFileError,
  unitHash,
  unitNameError,
  type TargetState,
  type Unit,
  type UnitOption,
} from "@fleet/domain";
import { debug, errorMessage, say, warn, type CommandContext } from "../context/context.js";
import type { UnitView } from "../api/fleet-api.js";
import { baseName, dirName, joinPath, unitNameOfArg, withDefaultUnitType } from "./unit-args.js";

/** A failure with the message fleetctl prints after "Error creating units: ". */
export class CreateUnitsError extends Error {
  /** `cause`: the API's error, when there was one (it may say the write's outcome is unknown). */
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
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
  /** --replace: a unit whose local file changed is replaced by it (in one write where the API
   * has ReplaceUnit: it keeps its machine and restarts there; else destroyed and created). */
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

/** What one argument needs: nothing (the unit exists), or a unit created (after destroying the old one). */
type Plan =
  | { readonly kind: "keep" }
  | { readonly kind: "create"; readonly name: string; readonly options: UnitOption[]; readonly replaces: boolean; readonly ifAbsent?: string };

/** Decides for one argument, warning as fleet does; throws CreateUnitsError. */
async function planArgument(ctx: CommandContext, raw: string, options: CreateOptions, optimistic = true): Promise<{ plan: Plan; notes: Array<() => void> }> {
  const notes: Array<() => void> = [];
  const path = withDefaultUnitType(raw);
  const name = unitNameOfArg(raw);
  if (optimistic && !options.replace && ctx.api.createUnitIfAbsent) {
    // Usually the unit is new: create it from its file without asking first (one round trip
    // less); if it exists after all, the creation changes nothing and the usual checks follow.
    const local = await readUnitFile(ctx, path).catch(() => undefined);
    if (local !== undefined) return { plan: { kind: "create", name, options: local, replaces: false, ifAbsent: raw }, notes };
  }
  let existing: UnitView | undefined;
  try {
    existing = await ctx.api.getUnit(name);
  } catch (err) {
    throw new CreateUnitsError(`error retrieving Unit(${name}) from Registry: ${errorMessage(err)}`);
  }
  if (!existing) return { plan: { kind: "create", name, options: await findUnitOptions(ctx, path, name), replaces: false }, notes };
  const d = await localDifference(ctx, path, existing);
  if (!options.replace) {
    if (d) notes.push(() => warnDifference(ctx, name, d));
    return { plan: { kind: "keep" }, notes };
  }
  if (!d) {
    notes.push(() => say(ctx, `Found same Unit(${name}) in Registry, nothing to do`));
    return { plan: { kind: "keep" }, notes };
  }
  if (!REPLACEABLE[options.command].includes(existing.unit.desiredState)) {
    notes.push(() => warn(ctx, `Warning: can not replace Unit(${name}) in state '${existing.unit.desiredState}', use the appropriate command`));
    return { plan: { kind: "keep" }, notes };
  }
  return { plan: { kind: "create", name, options: d.options, replaces: true }, notes };
}

/**
 * Several new units in one request (CreateUnits) where the API has it: name -> created. Empty
 * when there is nothing to batch or the request failed; each unit is then created on its own,
 * so that a bad unit fails alone, with its own message.
 */
async function createTogether(ctx: CommandContext, units: readonly Unit[]): Promise<Map<string, boolean>> {
  const createUnitsIfAbsent = ctx.api.createUnitsIfAbsent?.bind(ctx.api);
  if (units.length < 2 || !createUnitsIfAbsent) return new Map();
  try {
    const created = await createUnitsIfAbsent(units);
    return new Map(units.map((u, i) => [u.name, created[i] === true]));
  } catch (err) {
    debug(ctx, `creating ${units.length} units in one request failed (${errorMessage(err)}); creating them one by one`);
    return new Map();
  }
}

/**
 * Ensures a unit exists for each argument and returns the units it created. Prints "Unit x
 * inactive" for each, as fleet does. With --replace, a unit whose local file differs is
 * replaced by it (see CreateOptions.replace).
 *
 * fleet creates a unit inactive and then sets the desired state of load or start; this creates
 * it at `desiredState` in one write, which saves the cluster a second round. The arguments are
 * looked up together and the units created together, each in one request; as in fleet, the
 * first argument that fails (in argument order) is the error, and only the units of the
 * arguments before it are created.
 */
export async function lazyCreateUnits(ctx: CommandContext, args: readonly string[], desiredState: TargetState, options: CreateOptions): Promise<Unit[]> {
  for (const raw of args) {
    const invalid = unitNameError(unitNameOfArg(raw));
    if (invalid !== undefined) throw new CreateUnitsError(invalid);
  }
  const outcomes = await Promise.allSettled(args.map((raw) => planArgument(ctx, raw, options)));
  const creates: Array<Extract<Plan, { kind: "create" }>> = [];
  const seen = new Set<string>();
  let lookupError: unknown;
  for (const outcome of outcomes) {
    if (outcome.status === "rejected") {
      lookupError = outcome.reason;
      break;
    }
    for (const note of outcome.value.notes) note();
    const plan = outcome.value.plan;
    if (plan.kind === "create" && !seen.has(plan.name)) {
      seen.add(plan.name);
      creates.push(plan);
    }
  }

  const units = creates.map((c) => ({ name: c.name, options: c.options, hash: unitHash(c.options), desiredState }));
  const batched = await createTogether(
    ctx,
    units.filter((_, i) => creates[i]?.ifAbsent !== undefined),
  );
  const results = await Promise.allSettled(
    creates.map(async (c, i): Promise<Array<() => void> | undefined> => {
      const createIfAbsent = ctx.api.createUnitIfAbsent?.bind(ctx.api);
      if (c.ifAbsent !== undefined && createIfAbsent) {
        let created = batched.get(c.name);
        try {
          created ??= await createIfAbsent(units[i] as Unit);
        } catch (err) {
          throw new CreateUnitsError(`failed creating unit ${c.name}: ${errorMessage(err)}`, err);
        }
        return created ? undefined : (await planArgument(ctx, c.ifAbsent, options, false)).notes;
      }
      const replaceUnit = ctx.api.replaceUnit?.bind(ctx.api);
      if (c.replaces && replaceUnit) {
        try {
          await replaceUnit(units[i] as Unit);
        } catch (err) {
          throw new CreateUnitsError(`failed replacing unit ${c.name}: ${errorMessage(err)}`, err);
        }
        return undefined;
      }
      if (c.replaces) {
        try {
          await ctx.api.destroyUnit(c.name);
        } catch (err) {
          throw new CreateUnitsError(`failed replacing unit ${c.name}: ${errorMessage(err)}`, err);
        }
      }
      try {
        await ctx.api.createUnit(units[i] as Unit);
      } catch (err) {
        throw new CreateUnitsError(`failed creating unit ${c.name}: ${errorMessage(err)}`, err);
      }
      return undefined;
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  // A new unit is inactive until its machine reports otherwise: what fleet's wait would print.
  // A unit that existed after all prints what the usual checks say about it instead.
  results.forEach((r, i) => {
    if (r.status !== "fulfilled") return;
    if (r.value === undefined) say(ctx, `Unit ${creates[i]?.name ?? ""} inactive`);
    else for (const note of r.value) note();
  });
  if (failed) throw failed.reason;
  if (lookupError !== undefined) throw lookupError;
  return units.filter((_, i) => results[i]?.status === "fulfilled" && (results[i] as PromiseFulfilledResult<unknown>).value === undefined);
}

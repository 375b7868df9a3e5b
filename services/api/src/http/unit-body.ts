// The body of PUT /units/<name>, read as fleet's Go decoder reads a schema.Unit: an object whose
// known fields must have the right JSON types (null counts as absent), unknown fields ignored.
// Pure; every refusal is a BadRequest with fleet's wording where fleet has one.
import { isGlobalUnit, isTargetState, xFleetValues, type TargetState, type UnitOption } from "@fleet/domain";
import { HttpError } from "./http-error.js";

export interface UnitBody {
  readonly name: string | undefined;
  readonly options: readonly UnitOption[];
  readonly desiredState: TargetState | undefined;
}

type Json = unknown;

const decodeError = (detail: string) => new HttpError(400, `unable to decode body: ${detail}`);

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optionalString(obj: Record<string, Json>, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw decodeError(`${where}${key} must be a string`);
  return v;
}

function readOption(v: Json, i: number): UnitOption {
  if (!isObject(v)) throw decodeError(`options[${i}] must be an object`);
  const where = `options[${i}].`;
  return {
    section: optionalString(v, "section", where) ?? "",
    name: optionalString(v, "name", where) ?? "",
    value: optionalString(v, "value", where) ?? "",
  };
}

/** Parses and type-checks the body; the desired state, when given, must be a fleet state. */
export function parseUnitBody(text: string): UnitBody {
  let parsed: Json;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw decodeError(err instanceof Error ? err.message : String(err));
  }
  if (parsed === null) parsed = {};
  if (!isObject(parsed)) throw decodeError("expected a JSON object (a Unit)");
  const name = optionalString(parsed, "name", "");
  optionalString(parsed, "currentState", "");
  optionalString(parsed, "machineID", "");
  const rawOptions = parsed["options"];
  if (rawOptions !== undefined && rawOptions !== null && !Array.isArray(rawOptions)) throw decodeError("options must be a list");
  const options = (rawOptions ?? []).map(readOption);
  const desired = optionalString(parsed, "desiredState", "");
  if (desired !== undefined && desired !== "" && !isTargetState(desired)) {
    throw new HttpError(400, `invalid desiredState ${JSON.stringify(desired)}: must be inactive, loaded or launched`);
  }
  return { name, options, desiredState: desired === "" || desired === undefined ? undefined : desired };
}

/** Go's path.Match for the glob forms unit names use: `*`, `?` and `[...]`. */
function globMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
  try {
    return new RegExp(`^${re}$`).test(name);
  } catch {
    return false;
  }
}

/** Every value of these [X-Fleet] options, in the order fleet lists them. */
function values(options: readonly UnitOption[], names: readonly string[]): string[] {
  return names.flatMap((name) => xFleetValues(options, name));
}

/**
 * fleet 1.0's ValidateOptions: [X-Fleet] requirements that can never be met together, checked in
 * its order and answered in its words. Values are read raw, as fleet reads them here (the unit
 * has no name yet, so no specifier is expanded): Conflicts split on blanks, MachineOf and
 * Replaces whole. Global with Conflicts or MachineMetadata is accepted: the agents honour both.
 */
export function xFleetConflict(options: readonly UnitOption[]): string | undefined {
  const peers = values(options, ["X-ConditionMachineOf", "MachineOf"]);
  const conflicts = values(options, ["X-Conflicts", "Conflicts"]).flatMap((v) => v.split(/\s+/).filter((w) => w !== ""));
  const replaces = values(options, ["Replaces"]);
  for (const peer of peers) {
    const conflict = conflicts.find((c) => globMatch(c, peer));
    if (conflict !== undefined) return `unresolvable requirements: peer ${JSON.stringify(peer)} matches conflict ${JSON.stringify(conflict)}`;
    const replace = replaces.find((r) => globMatch(r, peer));
    if (replace !== undefined) return `unresolvable requirements: peer ${JSON.stringify(peer)} matches replace ${JSON.stringify(replace)}`;
  }
  const global = isGlobalUnit(options);
  const target = values(options, ["MachineID", "X-ConditionMachineID", "X-ConditionMachineBootID"]).length > 0;
  if (target && peers.length > 0) return "MachineID cannot be used with Peers";
  if (target && conflicts.length > 0) return "MachineID cannot be used with Conflicts";
  if (target && global) return "MachineID cannot be used with Global";
  if (target && replaces.length > 0) return "MachineID cannot be used with Replaces";
  if (global && peers.length > 0) return "Global cannot be used with Peers";
  if (global && replaces.length > 0) return "Global cannot be used with Replaces";
  if (conflicts.length > 0 && replaces.length > 0) return "Conflicts cannot be used with Replaces";
  return undefined;
}

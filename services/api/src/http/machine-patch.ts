// The body of PATCH /machines: a JSON Patch of add/remove/replace operations on
// `/<machine-id>/metadata/<key>`, each value as fleet 1.0 reads it (`{"value": "web"}`) or a
// plain string. Pure: every operation is checked before any is applied (a bad
// one refuses the whole patch), then the operations become one change per machine, in order.
import { assertMetadataValue, machineIdError } from "@fleet/domain";
import { HttpError } from "./http-error.js";
import type { MetadataChange } from "./fleet-backend.js";

export interface MetadataOp {
  readonly op: "add" | "remove" | "replace";
  readonly machineId: string;
  readonly key: string;
  readonly value: string;
}

/** fleet's metadataPathRegex. */
const METADATA_PATH = /^\/([^/]+)\/metadata\/([A-Za-z0-9_.-]+)$/;

const bad = (message: string) => new HttpError(400, message);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Go matches struct fields case-insensitively: "Path" and "path" are one field. */
function field(obj: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : obj[key];
}

function stringField(obj: Record<string, unknown>, name: string, i: number): string {
  const v = field(obj, name);
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw bad(`unable to decode body: [${i}].${name} must be a string`);
  return v;
}

/**
 * The operation's value: fleet 1.0 decodes `"value": {"value": "web"}` (a struct with one
 * field, named case-insensitively as Go does); the plain `"value": "web"` of JSON Patch is taken
 * too. null or absent is "".
 */
function valueField(obj: Record<string, unknown>, i: number): string {
  const v = field(obj, "value");
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (!isObject(v)) throw bad(`unable to decode body: [${i}].value must be {"value": "..."} or a string`);
  const inner = field(v, "value");
  if (inner === undefined || inner === null) return "";
  if (typeof inner !== "string") throw bad(`unable to decode body: [${i}].value.value must be a string`);
  return inner;
}

function readOp(raw: unknown, i: number): MetadataOp {
  if (!isObject(raw)) throw bad(`unable to decode body: [${i}] must be an object`);
  const op = stringField(raw, "op", i);
  const path = stringField(raw, "path", i);
  const value = valueField(raw, i);
  if (op !== "add" && op !== "remove" && op !== "replace") throw bad("invalid op: expect add, remove, or replace");
  const m = METADATA_PATH.exec(path);
  if (!m) throw bad("machine metadata path invalid");
  const machineId = m[1] ?? "";
  const key = m[2] ?? "";
  const badId = machineIdError(machineId);
  if (badId) throw bad(badId);
  if (op !== "remove") {
    if (value === "") throw bad("invalid value: add and replace require a value");
    // A control character, a comma or a value over its limit: 400 or 413, naming the limit.
    assertMetadataValue(key, value);
  }
  return { op, machineId, key, value };
}

/** Parses and checks every operation of the patch. */
export function parseMachinePatch(text: string): MetadataOp[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw bad(`unable to decode body: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw bad("unable to decode body: expected a JSON Patch (a list of operations)");
  return parsed.map(readOp);
}

/** One change per machine (in order of first mention); later operations on a key win. */
export function metadataChanges(ops: readonly MetadataOp[]): MetadataChange[] {
  const byMachine = new Map<string, { set: Map<string, string>; remove: Set<string> }>();
  for (const op of ops) {
    let entry = byMachine.get(op.machineId);
    if (!entry) byMachine.set(op.machineId, (entry = { set: new Map(), remove: new Set() }));
    if (op.op === "remove") {
      entry.set.delete(op.key);
      entry.remove.add(op.key);
    } else {
      entry.remove.delete(op.key);
      entry.set.set(op.key, op.value);
    }
  }
  return [...byMachine].map(([machineId, e]) => ({ machineId, set: Object.fromEntries(e.set), remove: [...e.remove] }));
}

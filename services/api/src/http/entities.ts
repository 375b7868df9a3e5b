// fleet's JSON entities (schema/v1-gen.go): field names, key order and Go's omitempty (empty
// strings, lists and maps are left out). Pure.
import type { Machine, UnitOption, UnitState } from "@fleet/domain";
import type { UnitView } from "./fleet-backend.js";
import { encodePageToken, type PageToken } from "./page-token.js";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** An object without the entries Go's omitempty would leave out. */
function omitEmpty(entries: ReadonlyArray<readonly [string, JsonValue]>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of entries) {
    if (value === "" || value === null) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0) continue;
    out[key] = value;
  }
  return out;
}

export function unitOptionEntity(o: UnitOption): JsonObject {
  return omitEmpty([
    ["name", o.name],
    ["section", o.section],
    ["value", o.value],
  ]);
}

export function unitEntity(view: UnitView): JsonObject {
  return omitEmpty([
    ["currentState", view.currentState],
    ["desiredState", view.unit.desiredState],
    ["machineID", view.machineId],
    ["name", view.unit.name],
    ["options", view.unit.options.map(unitOptionEntity)],
  ]);
}

export function unitStateEntity(s: UnitState): JsonObject {
  return omitEmpty([
    ["hash", s.hash],
    ["machineID", s.machineId],
    ["name", s.name],
    ["systemdActiveState", s.activeState],
    ["systemdLoadState", s.loadState],
    ["systemdSubState", s.subState],
  ]);
}

export function machineEntity(m: Machine): JsonObject {
  return omitEmpty([
    ["id", m.id],
    ["metadata", { ...m.metadata }],
    ["primaryIP", m.publicIp],
  ]);
}

/** A page: `{"<items>": [...], "nextPageToken": "..."}`, both left out when empty. */
export function pageEntity(itemsKey: string, items: JsonValue[], next: PageToken | undefined): JsonObject {
  return omitEmpty([
    [itemsKey, items],
    ["nextPageToken", next ? encodePageToken(next) : ""],
  ]);
}

// A unit's identity is the SHA1 of its contents, serialized exactly as fleet's unit.Hash does
// (go-systemd's Serialize: sections in first-appearance order, `Name=value` lines, a blank
// line between sections). Equal contents give equal hashes, on every machine and release.
import { createHash } from "node:crypto";
import type { UnitOption } from "../types.js";
import { serializeUnitFile } from "./unit-file.js";

/** 40 hex digits: SHA1 of serializeUnitFile(options). */
export function unitHash(options: readonly UnitOption[]): string {
  return createHash("sha1").update(serializeUnitFile(options), "utf8").digest("hex");
}

/** The first 7 hex digits, as fleetctl prints hashes. */
export function shortHash(hash: string): string {
  return hash.slice(0, 7);
}

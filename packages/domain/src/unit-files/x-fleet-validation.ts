// Checking a unit's [X-Fleet] section at submit: unknown options, malformed values, and the
// combinations fleet 1.0's ValidateOptions refuses (README of the scheduler, "Choices").
import { globError, globMatches } from "../scheduler/glob.js";
import { parseMetadataRequirement } from "../scheduler/metadata-match.js";
import type { UnitOption } from "../types.js";
import { isFalsy, isTruthy, X_FLEET_OPTION_NAMES, type XFleetOption } from "./x-fleet-options.js";
import { readRawXFleet } from "./x-fleet.js";

const MACHINE_ID = /^[0-9a-fA-F]{32}$/;

/**
 * Why the unit's [X-Fleet] section cannot be accepted, or undefined when it can. Checked at
 * submit: unknown options, malformed values, and combinations fleet rejects.
 */
export function xFleetError(name: string, options: readonly UnitOption[]): string | undefined {
  const { items, checked, unknown, unbalancedQuotes } = readRawXFleet(name, options);
  const prefix = `unit ${name}:`;
  if (unknown.length > 0) {
    const known = Object.keys(X_FLEET_OPTION_NAMES).filter((k) => !k.startsWith("X-")).join(", ");
    return `${prefix} unknown [X-Fleet] option ${JSON.stringify(unknown[0])} (known options: ${known})`;
  }
  if (unbalancedQuotes.length > 0) return `${prefix} unbalanced double quote in ${unbalancedQuotes[0]}`;
  for (const id of checked.MachineID) {
    if (!MACHINE_ID.test(id)) {
      return `${prefix} MachineID=${id} is not a machine ID: it must be the full 32-character hexadecimal ID (fleetctl list-machines -l)`;
    }
  }
  const { malformed } = parseMetadataRequirement(checked.MachineMetadata);
  if (malformed.length > 0) {
    return `${prefix} MachineMetadata value ${JSON.stringify(malformed[0])} is malformed: expected key=value with a non-empty key and value`;
  }
  for (const option of ["Conflicts", "Replaces"] as const) {
    for (const pattern of checked[option]) {
      const error = globError(pattern);
      if (error !== undefined) return `${prefix} ${option}=${pattern}: ${error}`;
    }
  }
  for (const value of checked.AtMostOnce) {
    if (!isTruthy(value) && !isFalsy(value)) return `${prefix} AtMostOnce=${value} is not a boolean: use true or false`;
  }
  const pairError = combinationError(items);
  if (pairError !== undefined) return `${prefix} ${pairError}`;
  for (const peer of checked.MachineOf) {
    if (peer === name) return `${prefix} MachineOf=${peer} names the unit itself`;
    for (const option of ["Conflicts", "Replaces"] as const) {
      const pattern = items[option].find((p) => globMatches(p, peer));
      if (pattern !== undefined) {
        return `${prefix} unresolvable requirements: MachineOf=${peer} matches ${option}=${pattern}`;
      }
    }
  }
  return undefined;
}

/**
 * The options that cannot be used together, in the order fleet 1.0's ValidateOptions checks
 * them: MachineID with MachineOf, Conflicts, Global or Replaces; Global with MachineOf or
 * Replaces; Conflicts with Replaces. Global with Conflicts (or MachineMetadata) is fine: the
 * agents honour both. AtMostOnce=true with Global=true is this project's own rule.
 */
function combinationError(items: Record<XFleetOption, string[]>): string | undefined {
  const lastGlobal = items.Global[items.Global.length - 1];
  const global = lastGlobal !== undefined && isTruthy(lastGlobal);
  const has = (option: XFleetOption): boolean => items[option].length > 0;
  const machineId = "MachineID cannot be combined with";
  const everywhere = "a global unit runs on every machine that satisfies its MachineMetadata and Conflicts";
  if (has("MachineID") && has("MachineOf")) return `${machineId} MachineOf`;
  if (has("MachineID") && has("Conflicts")) return `${machineId} Conflicts: the unit can only run on that machine`;
  if (has("MachineID") && global) return `Global=true cannot be combined with MachineID: ${everywhere}`;
  if (has("MachineID") && has("Replaces")) return `${machineId} Replaces: the unit can only run on that machine`;
  if (global && has("MachineOf")) return `Global=true cannot be combined with MachineOf: ${everywhere}`;
  if (global && has("Replaces")) return `Global=true cannot be combined with Replaces: ${everywhere}`;
  if (has("Conflicts") && has("Replaces")) return "Replaces cannot be combined with Conflicts";
  const lastAtMostOnce = items.AtMostOnce[items.AtMostOnce.length - 1];
  if (global && lastAtMostOnce !== undefined && isTruthy(lastAtMostOnce)) {
    return "Global=true cannot be combined with AtMostOnce=true: a global unit runs on every eligible machine";
  }
  return undefined;
}

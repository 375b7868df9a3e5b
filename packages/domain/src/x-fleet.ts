// Reading a unit's [X-Fleet] placement options, the way fleet 1.0 reads them.
//
//   MachineID=<32 hex>            only that machine            (X-ConditionMachineID,
//                                                                X-ConditionMachineBootID)
//   MachineOf=<unit>              the machine of that unit      (X-ConditionMachineOf)
//   MachineMetadata=k=v ...       machines with that metadata   (X-ConditionMachineMetadata)
//   Conflicts=<glob> ...          never next to matching units  (X-Conflicts)
//   Replaces=<glob> ...           take the machine of that unit, which moves elsewhere
//   Global=true                   every eligible machine, placed by the agents
//   AtMostOnce=true               never active on two machines at once: its agent stops it
//                                 before its lease can lapse, the engine moves it only after
//                                 the lease lapsed plus a margin (fleet's own extension)
//
// A value may hold several items separated by spaces; double quotes group an item that holds
// spaces and are dropped (`MachineMetadata="region=us east" "disk=ssd"`). Specifiers (%n %N %p
// %i) are expanded in every item. The deprecated names count as their modern ones.
import { globError, globMatches } from "./glob.js";
import { describeMetadata, parseMetadataRequirement, type MetadataRequirement } from "./metadata-match.js";
import { expandSpecifiers, specifierValues } from "./specifiers.js";
import type { UnitOption } from "./types.js";

export const X_FLEET = "X-Fleet";

export type XFleetOption = "MachineID" | "MachineOf" | "MachineMetadata" | "Conflicts" | "Replaces" | "Global" | "AtMostOnce";

/** Every accepted option name -> the option it means (deprecated spellings included). */
export const X_FLEET_OPTION_NAMES: Readonly<Record<string, XFleetOption>> = {
  MachineID: "MachineID",
  "X-ConditionMachineID": "MachineID",
  "X-ConditionMachineBootID": "MachineID",
  MachineOf: "MachineOf",
  "X-ConditionMachineOf": "MachineOf",
  MachineMetadata: "MachineMetadata",
  "X-ConditionMachineMetadata": "MachineMetadata",
  Conflicts: "Conflicts",
  "X-Conflicts": "Conflicts",
  Replaces: "Replaces",
  Global: "Global",
  AtMostOnce: "AtMostOnce",
};

/** What a unit's [X-Fleet] section asks of its placement, specifiers expanded. */
export interface XFleetRequirements {
  readonly global: boolean;
  /** The required machine (the first MachineID, modern spelling first), else undefined. */
  readonly machineId: string | undefined;
  /** Units whose machine this unit must share (all of them), without duplicates. */
  readonly machineOf: readonly string[];
  readonly metadata: MetadataRequirement;
  /** Glob patterns of units this unit must not share a machine with. */
  readonly conflicts: readonly string[];
  /** Glob patterns of units whose machine this unit takes. */
  readonly replaces: readonly string[];
}

export const NO_REQUIREMENTS: XFleetRequirements = {
  global: false,
  machineId: undefined,
  machineOf: [],
  metadata: [],
  conflicts: [],
  replaces: [],
};

/** Every raw value of an [X-Fleet] option, in file order (exact name, no deprecated spellings). */
export function xFleetValues(options: readonly UnitOption[], name: string): string[] {
  return options.filter((o) => o.section === X_FLEET && o.name === name).map((o) => o.value);
}

/** The items of one value: split on spaces outside double quotes, quotes dropped. */
export function splitXFleetValue(value: string): string[] {
  if (!/["\s]/.test(value)) return value === "" ? [] : [value];
  const items: string[] = [];
  let current = "";
  let quoted = false;
  let started = false;
  for (const c of value) {
    if (c === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && (c === " " || c === "\t")) {
      if (started) items.push(current);
      current = "";
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (started) items.push(current);
  return items;
}

/** fleet's truthy values: true, yes, 1, on, t (any case). */
export function isTruthy(value: string): boolean {
  return /^(true|yes|1|on|t)$/i.test(value.trim());
}

/** fleet's falsy values, the counterpart of isTruthy: false, no, 0, off, f (any case). */
export function isFalsy(value: string): boolean {
  return /^(false|no|0|off|f)$/i.test(value.trim());
}

/** The last item of the last value of a boolean [X-Fleet] option (the one that counts). */
function lastFlag(options: readonly UnitOption[], name: string): boolean {
  let last: string | undefined;
  for (const o of options) {
    if (o.section === X_FLEET && o.name === name) last = o.value;
  }
  if (last === undefined) return false;
  const items = splitXFleetValue(last);
  return isTruthy(items[items.length - 1] ?? "");
}

/** Global=true: the unit runs on every eligible machine, placed by the agents themselves. */
export function isGlobalUnit(options: readonly UnitOption[]): boolean {
  return lastFlag(options, "Global");
}

/** AtMostOnce=true: the unit is never active on two machines at once (see the header). */
export function isAtMostOnceUnit(options: readonly UnitOption[]): boolean {
  return lastFlag(options, "AtMostOnce");
}

interface RawRequirements {
  /** Items per option, specifiers expanded; MachineID ordered modern spelling first. */
  readonly items: Record<XFleetOption, string[]>;
  readonly unknown: string[];
  readonly unbalancedQuotes: string[];
}

function readRaw(unitName: string, options: readonly UnitOption[]): RawRequirements {
  const items: Record<XFleetOption, string[]> = {
    MachineID: [],
    MachineOf: [],
    MachineMetadata: [],
    Conflicts: [],
    Replaces: [],
    Global: [],
    AtMostOnce: [],
  };
  const legacyMachineIds: string[] = [];
  const bootIds: string[] = [];
  const unknown: string[] = [];
  const unbalancedQuotes: string[] = [];
  let specifiers: ReturnType<typeof specifierValues> | null = null;
  for (const o of options) {
    if (o.section !== X_FLEET) continue;
    const option = X_FLEET_OPTION_NAMES[o.name];
    if (option === undefined) {
      unknown.push(o.name);
      continue;
    }
    if ((o.value.split('"').length - 1) % 2 === 1) unbalancedQuotes.push(`${o.name}=${o.value}`);
    const target = o.name === "X-ConditionMachineID" ? legacyMachineIds : o.name === "X-ConditionMachineBootID" ? bootIds : items[option];
    for (const item of splitXFleetValue(o.value)) {
      if (item.includes("%")) {
        if (specifiers === null) specifiers = specifierValues(unitName);
        target.push(expandSpecifiers(item, specifiers));
      } else {
        target.push(item);
      }
    }
  }
  items.MachineID.push(...legacyMachineIds, ...bootIds);
  return { items, unknown, unbalancedQuotes };
}

/** The placement requirements of the unit `unitName` with these options. */
export function readXFleet(unitName: string, options: readonly UnitOption[]): XFleetRequirements {
  // The hot path of every scheduling decision: most units have no [X-Fleet] section at all.
  let first = -1;
  for (let i = 0; i < options.length; i++) {
    if ((options[i] as UnitOption).section === X_FLEET) {
      first = i;
      break;
    }
  }
  if (first < 0) return NO_REQUIREMENTS;
  let global: string | undefined;
  let machineId: string | undefined;
  let conditionMachineId: string | undefined;
  let bootId: string | undefined;
  let machineOf: string[] | undefined;
  let metadata: string[] | undefined;
  let conflicts: string[] | undefined;
  let replaces: string[] | undefined;
  let specifiers: ReturnType<typeof specifierValues> | null = null;
  for (let i = first; i < options.length; i++) {
    const o = options[i] as UnitOption;
    if (o.section !== X_FLEET) continue;
    const option = X_FLEET_OPTION_NAMES[o.name];
    if (option === undefined) continue;
    for (let item of splitXFleetValue(o.value)) {
      if (item.includes("%")) item = expandSpecifiers(item, specifiers ??= specifierValues(unitName));
      switch (option) {
        case "AtMostOnce":
          break;
        case "Global":
          global = item;
          break;
        case "MachineID":
          if (o.name === "MachineID") machineId ??= item;
          else if (o.name === "X-ConditionMachineID") conditionMachineId ??= item;
          else bootId ??= item;
          break;
        case "MachineOf":
          (machineOf ??= []).push(item);
          break;
        case "MachineMetadata":
          (metadata ??= []).push(item);
          break;
        case "Conflicts":
          (conflicts ??= []).push(item);
          break;
        case "Replaces":
          (replaces ??= []).push(item);
          break;
      }
    }
  }
  return {
    global: global !== undefined && isTruthy(global),
    machineId: machineId ?? conditionMachineId ?? bootId,
    machineOf: unique(machineOf),
    metadata: metadata === undefined ? [] : parseMetadataRequirement(metadata).requirement,
    conflicts: unique(conflicts),
    replaces: unique(replaces),
  };
}

function unique(items: string[] | undefined): readonly string[] {
  if (items === undefined) return [];
  return items.length === 1 ? items : [...new Set(items)];
}

const MACHINE_ID = /^[0-9a-fA-F]{32}$/;

/**
 * Why the unit's [X-Fleet] section cannot be accepted, or undefined when it can. Checked at
 * submit: unknown options, malformed values, and combinations fleet rejects.
 */
export function xFleetError(name: string, options: readonly UnitOption[]): string | undefined {
  const { items, unknown, unbalancedQuotes } = readRaw(name, options);
  const prefix = `unit ${name}:`;
  if (unknown.length > 0) {
    const known = Object.keys(X_FLEET_OPTION_NAMES).filter((k) => !k.startsWith("X-")).join(", ");
    return `${prefix} unknown [X-Fleet] option ${JSON.stringify(unknown[0])} (known options: ${known})`;
  }
  if (unbalancedQuotes.length > 0) return `${prefix} unbalanced double quote in ${unbalancedQuotes[0]}`;
  for (const id of items.MachineID) {
    if (!MACHINE_ID.test(id)) {
      return `${prefix} MachineID=${id} is not a machine ID: it must be the full 32-character hexadecimal ID (fleetctl list-machines -l)`;
    }
  }
  const { malformed } = parseMetadataRequirement(items.MachineMetadata);
  if (malformed.length > 0) {
    return `${prefix} MachineMetadata value ${JSON.stringify(malformed[0])} is malformed: expected key=value with a non-empty key and value`;
  }
  for (const option of ["Conflicts", "Replaces"] as const) {
    for (const pattern of items[option]) {
      const error = globError(pattern);
      if (error !== undefined) return `${prefix} ${option}=${pattern}: ${error}`;
    }
  }
  for (const value of items.AtMostOnce) {
    if (!isTruthy(value) && !isFalsy(value)) return `${prefix} AtMostOnce=${value} is not a boolean: use true or false`;
  }
  const lastAtMostOnce = items.AtMostOnce[items.AtMostOnce.length - 1];
  const lastGlobal = items.Global[items.Global.length - 1];
  const global = lastGlobal !== undefined && isTruthy(lastGlobal);
  if (global) {
    for (const option of ["MachineID", "MachineOf", "Replaces"] as const) {
      if (items[option].length > 0) {
        return `${prefix} Global=true cannot be combined with ${option}: a global unit runs on every machine that satisfies its MachineMetadata and Conflicts`;
      }
    }
  }
  if (global && lastAtMostOnce !== undefined && isTruthy(lastAtMostOnce)) {
    return `${prefix} Global=true cannot be combined with AtMostOnce=true: a global unit runs on every eligible machine`;
  }
  if (items.Replaces.length > 0 && items.Conflicts.length > 0) {
    return `${prefix} Replaces cannot be combined with Conflicts`;
  }
  if (items.MachineID.length > 0 && items.MachineOf.length > 0) {
    return `${prefix} MachineID cannot be combined with MachineOf`;
  }
  for (const peer of items.MachineOf) {
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

/** A short description of the requirements, for logs and reasons. */
export function describeRequirements(req: XFleetRequirements): string {
  const parts: string[] = [];
  if (req.global) parts.push("Global=true");
  if (req.machineId !== undefined) parts.push(`MachineID=${req.machineId}`);
  for (const peer of req.machineOf) parts.push(`MachineOf=${peer}`);
  if (req.metadata.length > 0) parts.push(`MachineMetadata ${describeMetadata(req.metadata)}`);
  for (const p of req.conflicts) parts.push(`Conflicts=${p}`);
  for (const p of req.replaces) parts.push(`Replaces=${p}`);
  return parts.join(", ");
}

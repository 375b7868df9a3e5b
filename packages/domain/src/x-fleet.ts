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
// %i) are expanded in every item with the unit's own name, so each instance of a template reads
// its own values (`MachineMetadata=hostname=%i` in web@.service: web@a.service wants hostname=a).
// The deprecated names count as their modern ones.
import { globError, globMatches } from "./glob.js";
import { describeMetadata, parseMetadataRequirement, type MetadataRequirement } from "./metadata-match.js";
import { expandSpecifiers, specifierValues } from "./specifiers.js";
import type { UnitOption } from "./types.js";
import { parseUnitName } from "./unit-name.js";

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
  /**
   * The items whose values are checked: all of them, except in a template (foo@.service) the
   * items that hold a specifier. Those mean something only once expanded for an instance, and
   * are checked then, when the instance is submitted.
   */
  readonly checked: Record<XFleetOption, string[]>;
  readonly unknown: string[];
  readonly unbalancedQuotes: string[];
}

const SPECIFIER = /%[nNpi]/;

function isTemplateName(name: string): boolean {
  try {
    return parseUnitName(name).isTemplate;
  } catch {
    return false;
  }
}

function noItems(): Record<XFleetOption, string[]> {
  return { MachineID: [], MachineOf: [], MachineMetadata: [], Conflicts: [], Replaces: [], Global: [], AtMostOnce: [] };
}

function readRaw(unitName: string, options: readonly UnitOption[]): RawRequirements {
  const items = noItems();
  const checked = noItems();
  const template = isTemplateName(unitName);
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
    const legacy = o.name === "X-ConditionMachineID" ? legacyMachineIds : o.name === "X-ConditionMachineBootID" ? bootIds : undefined;
    for (const item of splitXFleetValue(o.value)) {
      const expanded = item.includes("%") ? expandSpecifiers(item, (specifiers ??= specifierValues(unitName))) : item;
      (legacy ?? items[option]).push(expanded);
      if (!(template && SPECIFIER.test(item))) checked[option].push(expanded);
    }
  }
  items.MachineID.push(...legacyMachineIds, ...bootIds);
  return { items, checked, unknown, unbalancedQuotes };
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
  const { items, checked, unknown, unbalancedQuotes } = readRaw(name, options);
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

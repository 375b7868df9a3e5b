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
import { describeMetadata, parseMetadataRequirement, type MetadataRequirement } from "../scheduler/metadata-match.js";
import type { UnitOption } from "../types.js";
import { parseUnitName } from "../unit-name.js";
import { expandSpecifiers, specifierValues } from "./specifiers.js";
import { isTruthy, splitXFleetValue, X_FLEET, X_FLEET_OPTION_NAMES, type XFleetOption } from "./x-fleet-options.js";

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

export interface RawRequirements {
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

export function readRawXFleet(unitName: string, options: readonly UnitOption[]): RawRequirements {
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

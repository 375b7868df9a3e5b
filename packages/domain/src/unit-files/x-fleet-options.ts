// The [X-Fleet] section's vocabulary: its option names (deprecated spellings included), how a
// value splits into items (spaces outside double quotes; quotes dropped), fleet's boolean
// spellings, and the two flags the agents read directly (Global, AtMostOnce).
import type { UnitOption } from "../types.js";

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

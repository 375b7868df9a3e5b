// Reading a unit's [X-Fleet] placement options.
import type { UnitOption } from "./types.js";

export const X_FLEET = "X-Fleet";

/** Every value of an [X-Fleet] option, in file order. */
export function xFleetValues(options: readonly UnitOption[], name: string): string[] {
  return options.filter((o) => o.section === X_FLEET && o.name === name).map((o) => o.value);
}

/** Global=true: the unit runs on every eligible machine, placed by the agents themselves. */
export function isGlobalUnit(options: readonly UnitOption[]): boolean {
  const values = xFleetValues(options, "Global");
  const last = values[values.length - 1];
  return last !== undefined && /^(true|yes|1|on)$/i.test(last.trim());
}

// systemd specifiers in [X-Fleet] values, the subset fleet expands (its unitPrintf):
//
//   %n   the full unit name              foo@bar.service
//   %N   the name without its suffix     foo@bar
//   %p   the prefix                      foo
//   %i   the instance ("" if none)       bar
//
// Unit names cannot contain "\", so systemd's unescaping changes nothing here. Any other
// "%x" is left as written, as fleet does. Like fleet's unitPrintf, the four are replaced one
// after the other (all %n, then %N, %p, %i), so "%%n" in pi.service gives "pii.service".
import { parseUnitName } from "../unit-name.js";

export interface SpecifierValues {
  readonly n: string;
  readonly N: string;
  readonly p: string;
  readonly i: string;
}

/** The values of the specifiers for a unit name, or undefined for an invalid name. */
export function specifierValues(unitName: string): SpecifierValues | undefined {
  let parsed: ReturnType<typeof parseUnitName>;
  try {
    parsed = parseUnitName(unitName);
  } catch {
    return undefined;
  }
  const stem = unitName.slice(0, unitName.length - parsed.suffix.length - 1);
  return { n: unitName, N: stem, p: parsed.prefix, i: parsed.instance ?? "" };
}

/** `value` with %n, %N, %p and %i replaced for the unit `unitName` (unchanged for an invalid name). */
export function expandSpecifiers(value: string, unitName: string | SpecifierValues | undefined): string {
  if (!value.includes("%")) return value;
  const values = typeof unitName === "string" ? specifierValues(unitName) : unitName;
  if (values === undefined) return value;
  return value
    .replaceAll("%n", () => values.n)
    .replaceAll("%N", () => values.N)
    .replaceAll("%p", () => values.p)
    .replaceAll("%i", () => values.i);
}

// Whether a unit may go on a machine given the units already there (pure reads of the
// records' pattern counts and relations; the machine-level rules, MachineID, MachineMetadata
// and MachineOf, are the steps' own checks).
import { byName } from "./sorted.js";
import type { Slot, UnitRec } from "./unit-record.js";

/**
 * True when `rec` may not go on machine `m` because of the units there: one it conflicts
 * with, one that replaces it, or (unless it may push it away) one it replaces.
 */
export function blocked(rec: UnitRec, m: Slot, mayPush: boolean): boolean {
  for (const g of rec.ownPatterns) if ((g.matchesOn.get(m) ?? 0) > 0) return true;
  for (const g of rec.matchedBy) if ((g.holdersOn.get(m) ?? 0) > 0) return true;
  for (const other of rec.replacedBy) if (other.machine === m) return true;
  if (!mayPush) for (const other of rec.replaces) if (other.machine === m) return true;
  return false;
}

/** The placed units `rec` conflicts with, on machine `m` or (m undefined) anywhere, by name. */
export function conflictingUnits(rec: UnitRec, m?: Slot): UnitRec[] {
  const found = new Set<UnitRec>();
  const consider = (other: UnitRec): void => {
    if (other !== rec && other.machine !== undefined && (m === undefined || other.machine === m)) found.add(other);
  };
  for (const g of rec.ownPatterns) if (m === undefined || (g.matchesOn.get(m) ?? 0) > 0) g.matches.forEach(consider);
  for (const g of rec.matchedBy) if (m === undefined || (g.holdersOn.get(m) ?? 0) > 0) g.holders.forEach(consider);
  return [...found].sort(byName);
}

/** A unit being placed takes the machine of a unit it replaces, unless it was itself pushed. */
export function mayPush(rec: UnitRec): boolean {
  return !rec.pushed && rec.replaces.length > 0;
}

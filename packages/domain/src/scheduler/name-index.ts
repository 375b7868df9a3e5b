// Finds units by name or glob over the units sorted by name (a pattern's literal prefix
// narrows the scan to one range of the sorted array).
import type { Unit } from "../types.js";
import { compileGlob, globLiteralPrefix, isLiteralGlob } from "./glob.js";
import { lowerBound } from "./sorted.js";
import { UnitRec } from "./unit-record.js";

export class NameIndex {
  constructor(
    private readonly sorted: readonly UnitRec[],
    /** Every unit of the snapshot by name: its UnitRec when the engine places it. */
    readonly everyUnit: ReadonlyMap<string, Unit | UnitRec>,
  ) {}

  get(name: string): UnitRec | undefined {
    const entry = this.everyUnit.get(name);
    return entry instanceof UnitRec ? entry : undefined;
  }

  matching(pattern: string): UnitRec[] {
    if (isLiteralGlob(pattern)) {
      const rec = this.get(pattern);
      return rec ? [rec] : [];
    }
    const matcher = compileGlob(pattern);
    if (matcher === undefined) return [];
    const prefix = globLiteralPrefix(pattern);
    const out: UnitRec[] = [];
    for (let i = lowerBound(this.sorted, prefix); i < this.sorted.length; i++) {
      const rec = this.sorted[i] as UnitRec;
      if (!rec.name.startsWith(prefix)) break;
      if (matcher(rec.name)) out.push(rec);
    }
    return out;
  }
}

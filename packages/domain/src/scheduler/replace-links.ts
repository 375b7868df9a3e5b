// Replaces, kept between decisions: pattern -> the units holding it; a unit's replaces /
// circular relations are rebuilt (as resolveUnits builds them) when it, or a unit it names or
// that names it, changes. replacedBy lists stay in name order.
import { removeItem } from "./collections.js";
import { compileGlob, isLiteralGlob } from "./glob.js";
import type { NameIndex } from "./name-index.js";
import { insertByName } from "./sorted.js";
import { clearRelation, relate, relationList, type UnitRec } from "./unit-record.js";

export class ReplaceLinks {
  private readonly holders = new Map<string, Set<UnitRec>>();
  private readonly globs = new Set<string>();

  constructor(
    private readonly names: NameIndex,
    private readonly isLive: (rec: UnitRec) => boolean,
    private readonly dirty: (rec: UnitRec) => void,
  ) {}

  /** Registers a new unit's patterns; adds to `rebuild` the units whose relations it changes. */
  add(rec: UnitRec, rebuild: Set<UnitRec>): void {
    for (const pattern of rec.req.replaces) {
      let holders = this.holders.get(pattern);
      if (holders === undefined) this.holders.set(pattern, (holders = new Set()));
      holders.add(rec);
      if (!isLiteralGlob(pattern)) this.globs.add(pattern);
    }
    if (rec.req.replaces.length > 0) rebuild.add(rec);
    for (const holder of this.holdersMatching(rec.name)) rebuild.add(holder);
  }

  /** Unlinks a unit being dropped; adds to `rebuild` the units whose relations named it. */
  drop(rec: UnitRec, rebuild: Set<UnitRec>): void {
    for (const x of rec.replaces) {
      removeItem(x.replacedBy as UnitRec[], rec);
      this.dirty(x);
    }
    for (const x of [...rec.replacedBy, ...rec.circular]) rebuild.add(x);
    for (const pattern of rec.req.replaces) {
      const holders = this.holders.get(pattern);
      holders?.delete(rec);
      if (holders?.size === 0) {
        this.holders.delete(pattern);
        this.globs.delete(pattern);
      }
    }
  }

  /** Rebuilds `r`'s replaces / circular exactly as resolveUnits would, and its partners' replacedBy. */
  rebuild(r: UnitRec): void {
    for (const x of r.replaces) {
      removeItem(x.replacedBy as UnitRec[], r);
      this.dirty(x);
    }
    for (const x of r.circular) this.dirty(x);
    clearRelation(r, "replaces");
    clearRelation(r, "circular");
    if (!this.isLive(r)) return;
    this.dirty(r);
    const set = new Set<UnitRec>();
    for (const pattern of r.req.replaces) for (const match of this.names.matching(pattern)) if (match !== r) set.add(match);
    for (const other of set) {
      if (other.req.replaces.some((p) => compileGlob(p)?.(r.name))) relate(r, "circular", other);
      else {
        relate(r, "replaces", other);
        insertByName(relationList(other, "replacedBy"), r);
      }
      this.dirty(other);
    }
  }

  private *holdersMatching(name: string): Iterable<UnitRec> {
    yield* this.holders.get(name) ?? [];
    for (const pattern of this.globs) if (compileGlob(pattern)?.(name)) yield* this.holders.get(pattern) ?? [];
  }
}

// Conflicts, kept between decisions: one pattern group per distinct pattern, made when its
// first holder appears and dropped with its last; a new unit is matched against the existing
// patterns (literal ones by name, globs one by one), a new pattern against every unit.
import { removeItem } from "./collections.js";
import { compileGlob, isLiteralGlob } from "./glob.js";
import type { NameIndex } from "./name-index.js";
import { addPattern, newPatternGroup, type PatternGroup, type UnitRec } from "./unit-record.js";

export class ConflictLinks {
  private readonly groups = new Map<string, PatternGroup>();
  private readonly globs = new Map<string, PatternGroup>();

  constructor(private readonly names: NameIndex) {}

  /** Links new units (already in the name index) with the patterns they hold and match. */
  link(fresh: readonly UnitRec[]): void {
    // Groups that exist already and match a new unit...
    for (const rec of fresh) {
      const literal = this.groups.get(rec.name);
      if (literal !== undefined && isLiteralGlob(literal.pattern)) addMatch(literal, rec);
      for (const g of this.globs.values()) if (compileGlob(g.pattern)?.(rec.name)) addMatch(g, rec);
    }
    // ...then the new units' own patterns (a new group matches every unit, new ones included).
    for (const rec of fresh) {
      for (const pattern of rec.req.conflicts) {
        let g = this.groups.get(pattern);
        if (g === undefined) {
          g = newPatternGroup(pattern);
          this.groups.set(pattern, g);
          if (!isLiteralGlob(pattern)) this.globs.set(pattern, g);
          for (const match of this.names.matching(pattern)) addMatch(g, match);
        }
        g.holders.push(rec);
        addPattern(rec, "ownPatterns", g);
      }
    }
  }

  /** Unlinks a unit being dropped (off its machine already). */
  unlink(rec: UnitRec): void {
    for (const g of rec.matchedBy) removeItem(g.matches, rec);
    for (const g of rec.ownPatterns) {
      removeItem(g.holders, rec);
      if (g.holders.length === 0) this.deleteGroup(g);
    }
  }

  private deleteGroup(g: PatternGroup): void {
    this.groups.delete(g.pattern);
    this.globs.delete(g.pattern);
    for (const m of g.matches) removeItem(m.matchedBy as PatternGroup[], g);
  }
}

function addMatch(g: PatternGroup, rec: UnitRec): void {
  g.matches.push(rec);
  addPattern(rec, "matchedBy", g);
  if (rec.machine !== undefined) g.matchesOn.set(rec.machine, (g.matchesOn.get(rec.machine) ?? 0) + 1);
}

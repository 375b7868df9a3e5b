// MachineOf, kept between decisions: target name -> the units naming it, so a target that
// appears, goes or changes relinks its followers; depth and cycles are recomputed over the
// connected MachineOf component of what changed (followers stay in name order).
import type { Unit } from "../types.js";
import { addTo, removeFrom, removeItem } from "./collections.js";
import type { NameIndex } from "./name-index.js";
import { findDepthsAndCycles, machineOfProblem } from "./schedule-relations.js";
import { byName, insertByName } from "./sorted.js";
import { clearRelation, relate, relationList, type UnitRec } from "./unit-record.js";

export class MachineOfLinks {
  private readonly followersOf = new Map<string, Set<UnitRec>>();

  constructor(
    private readonly names: NameIndex,
    private readonly units: ReadonlyMap<string, Unit>,
    private readonly isLive: (rec: UnitRec) => boolean,
    private readonly dirty: (rec: UnitRec) => void,
  ) {}

  add(rec: UnitRec): void {
    for (const name of rec.req.machineOf) addTo(this.followersOf, name, rec);
  }

  /** Unlinks a unit being dropped; its targets and followers become seeds of a depth pass. */
  drop(rec: UnitRec, seeds: Set<UnitRec>): void {
    for (const t of rec.targets) {
      removeItem(t.followers as UnitRec[], rec);
      seeds.add(t);
    }
    for (const f of rec.followers) seeds.add(f);
    for (const name of rec.req.machineOf) removeFrom(this.followersOf, name, rec);
  }

  /** The units naming `name` in MachineOf, relinked to its current unit (and dirty). */
  relinkFollowersOf(name: string, seeds: Set<UnitRec>): void {
    for (const follower of this.followersOf.get(name) ?? []) {
      if (!this.isLive(follower)) continue;
      this.relinkTargets(follower, seeds);
      this.dirty(follower);
    }
  }

  relinkTargets(rec: UnitRec, seeds: Set<UnitRec>): void {
    for (const t of rec.targets) {
      removeItem(t.followers as UnitRec[], rec);
      seeds.add(t);
    }
    clearRelation(rec, "targets");
    rec.targetProblem = undefined;
    seeds.add(rec);
    for (const name of rec.req.machineOf) {
      const target = this.names.get(name);
      if (target !== undefined) {
        relate(rec, "targets", target);
        insertByName(relationList(target, "followers"), rec);
        seeds.add(target);
        continue;
      }
      rec.targetProblem ??= machineOfProblem(name, this.units.get(name));
    }
  }

  /** Depth and cycles again over the MachineOf components of `seeds` (a DFS per component is the whole-graph DFS restricted to it). */
  recomputeDepths(seeds: ReadonlySet<UnitRec>): void {
    const seen = new Set<UnitRec>();
    for (const seed of seeds) {
      if (seen.has(seed) || !this.isLive(seed)) continue;
      const component: UnitRec[] = [];
      const stack = [seed];
      seen.add(seed);
      while (stack.length > 0) {
        const r = stack.pop() as UnitRec;
        component.push(r);
        for (const n of r.targets) if (!seen.has(n)) (seen.add(n), stack.push(n));
        for (const n of r.followers) if (!seen.has(n)) (seen.add(n), stack.push(n));
      }
      if (component.length === 1 && seed.targets.length === 0) {
        if (seed.cycle !== undefined) this.dirty(seed);
        seed.depth = 0;
        seed.cycle = undefined;
        continue;
      }
      const cycles = component.map((r) => r.cycle);
      for (const r of component) {
        r.depth = 0;
        r.cycle = undefined;
      }
      component.sort(byName);
      findDepthsAndCycles(component);
      component.forEach((r, i) => {
        if (r.cycle !== cycles[i]) this.dirty(r);
      });
    }
  }
}

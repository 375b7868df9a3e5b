// Which units bear on which, through a rule: what the incremental scheduler must decide again
// together (incremental-scheduler.ts, "keep"), and whom a unit's move may let in or hold back.
import type { ScheduleState } from "./schedule-state.js";
import type { Slot, UnitRec } from "./unit-record.js";

/** Every unit whose placement or reason `rec`'s machine bears on. */
export function forRelated(rec: UnitRec, fn: (u: UnitRec) => void): void {
  for (const g of rec.ownPatterns) for (const u of g.matches) if (u !== rec) fn(u);
  for (const g of rec.matchedBy) for (const u of g.holders) if (u !== rec) fn(u);
  for (const u of rec.replaces) fn(u);
  for (const u of rec.replacedBy) fn(u);
  for (const u of rec.circular) fn(u);
  for (const u of rec.followers) fn(u);
}

/** The units related to `x` by a rule and placed on machine `m`. */
function relatedOn(x: UnitRec, m: Slot, add: (r: UnitRec) => void): void {
  for (const f of x.followers) if (f.machine === m) add(f);
  for (const g of x.ownPatterns) if ((g.matchesOn.get(m) ?? 0) > 0) for (const r of g.matches) if (r.machine === m) add(r);
  for (const g of x.matchedBy) if ((g.holdersOn.get(m) ?? 0) > 0) for (const r of g.holders) if (r.machine === m) add(r);
  for (const r of x.replaces) if (r.machine === m) add(r);
  for (const r of x.replacedBy) if (r.machine === m) add(r);
}

/**
 * The units to keep again: `start`, plus every unit related to one of them by a rule and
 * sitting on its stored or current machine (followers, conflict and replace partners), plus
 * placed circular partners, transitively. Every other placed unit is stored where it is and
 * is kept by decideSchedule too, and none of them bears on these units' keep.
 */
export function closeOverMachines(start: Iterable<UnitRec>, state: ScheduleState, isLive: (r: UnitRec) => boolean): Set<UnitRec> {
  const out = new Set<UnitRec>();
  const work: UnitRec[] = [];
  const add = (r: UnitRec): void => {
    if (!out.has(r) && isLive(r)) {
      out.add(r);
      work.push(r);
    }
  };
  for (const r of start) add(r);
  while (work.length > 0) {
    const x = work.pop() as UnitRec;
    const storedId = x.stored?.machineId;
    const storedSlot = storedId ? state.machineIndex(storedId) : undefined;
    if (storedSlot !== undefined) relatedOn(x, storedSlot, add);
    if (x.machine !== undefined && x.machine !== storedSlot) relatedOn(x, x.machine, add);
    for (const p of x.circular) if (p.machine !== undefined) add(p);
  }
  return out;
}

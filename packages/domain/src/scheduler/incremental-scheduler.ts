// The engine's decision, kept between rounds: the same Plan decideSchedule returns for the
// equivalent full snapshot (the contract, property-tested), at a cost that follows what
// changed rather than the cluster. README.md ("Incremental") explains why it is exact.
//
//   apply(delta)   units, machines and stored placements that changed; marks the units they
//                  concern dirty (README.md, "Incremental", lists which)
//   decide()
//     -> keep      the dirty units, closed over the units they share a machine with through a
//                  rule (conflict, replace, MachineOf, circular Replaces), taken off and kept
//                  again in decision order: the same keep decideSchedule makes, because every
//                  other unit is kept either way and none of them is related to these there
//     -> place     the units left unplaced, in passes in decision order; a unit whose related
//                  unit moves joins the pass (or the next one, when the pass is past it), so
//                  every unplaced unit left out would fail exactly as it did last round
//     -> diff      pending changes (stored placement vs decision) kept per unit, as a Plan
import type { Machine, Placement, Unit } from "../types.js";
import { UnitIndex, type IndexEvents } from "./incremental-index.js";
import { IncrementalScheduleState } from "./incremental-state.js";
import { diffUnit } from "./plan-diff.js";
import { PlanBuilder, type Plan, type PlanChange } from "./plan.js";
import { RecQueue } from "./rec-queue.js";
import { closeOverMachines, forRelated } from "./related-units.js";
import { explainUnplaced } from "./schedule-reasons.js";
import { choose, evictReplaced, keepOne, place } from "./schedule-steps.js";
import { firstOfEachName, type DecideStats, type ScheduleDelta } from "./schedule-delta.js";
import type { ClusterSnapshot } from "./scheduler.js";
import { compareRecs, type Slot, type UnitRec } from "./unit-record.js";

export type { DecideStats, ScheduleDelta };

export class IncrementalScheduler {
  private readonly state = new IncrementalScheduleState();
  private readonly stored = new Map<string, Placement>();
  private readonly index: UnitIndex;
  private readonly machines = new Map<string, Machine>();
  /** Wanted units not on a machine. */
  private readonly unplaced = new Set<UnitRec>();
  private readonly onSlot = new Map<Slot, Set<UnitRec>>();
  /** The reason of each unplaced unit, as of the last decision. */
  private readonly reasons = new Map<UnitRec, string>();
  private readonly pending = new Map<string, PlanChange>();
  // Since the last decision:
  private readonly dirty = new Set<UnitRec>();
  /** Unplaced units whose reason may read differently (they cannot have become placeable). */
  private readonly stale = new Set<UnitRec>();
  private readonly touched = new Set<string>();
  /** Units that moved, with the machine they were on at the end of the last decision. */
  private readonly origin = new Map<UnitRec, Slot | undefined>();
  private pushedLast: UnitRec[] = [];
  // During a decision's place step:
  private placing: { queue: RecQueue; cursor: UnitRec | undefined; next: Set<UnitRec>; pushed: Set<UnitRec>; examined: Set<UnitRec> } | undefined;
  lastStats: DecideStats = { kept: 0, tried: 0, changes: 0 };

  constructor() {
    const events: IndexEvents = {
      dirty: (rec) => {
        if (this.index.isLive(rec)) this.dirty.add(rec);
      },
      created: (rec) => {
        this.unplaced.add(rec);
      },
      dropping: (rec) => {
        // Units it held back (where the last decision left it, or now) may fit now.
        if (rec.machine !== undefined || this.origin.get(rec) !== undefined) {
          forRelated(rec, (u) => {
            if (u.machine === undefined) this.dirty.add(u);
          });
        }
      },
      dropped: (rec) => {
        this.unplaced.delete(rec);
        this.origin.delete(rec);
        this.reasons.delete(rec);
        this.dirty.delete(rec);
        this.stale.delete(rec);
      },
    };
    this.index = new UnitIndex(this.state, this.stored, events);
    this.state.onMove = (rec, from, to) => this.moved(rec, from, to);
  }

  static fromSnapshot(snapshot: ClusterSnapshot): IncrementalScheduler {
    const s = new IncrementalScheduler();
    s.apply({ machines: snapshot.machines, units: firstOfEachName(snapshot.units), placements: snapshot.placements });
    return s;
  }

  /** The snapshot this scheduler stands for: decideSchedule(snapshot()) equals decide(). */
  snapshot(): ClusterSnapshot {
    return { units: [...this.index.units.values()], placements: [...this.stored.values()], machines: [...this.machines.values()] };
  }

  get unitCount(): number {
    return this.index.units.size;
  }

  /** The unit by that name, if the scheduler holds it. */
  unit(name: string): Unit | undefined {
    return this.index.units.get(name);
  }

  /** The machine the unit is stored as placed on ("" when none). */
  placedOn(name: string): string {
    return this.stored.get(name)?.machineId ?? "";
  }

  apply(delta: ScheduleDelta): void {
    for (const id of delta.removedMachines ?? []) this.dropMachine(id);
    for (const m of delta.machines ?? []) this.putMachine(m);
    const removed = (delta.removedUnits ?? []).filter((name) => this.index.units.has(name));
    for (const name of removed) this.touched.add(name);
    for (const u of delta.units ?? []) this.touched.add(u.name);
    this.index.update(removed, delta.units ?? []);
    for (const name of delta.removedPlacements ?? []) this.setStored(name, undefined);
    for (const p of delta.placements ?? []) this.setStored(p.unitName, p.machineId === "" && p.reason === "" ? undefined : p);
  }

  /** The plan decideSchedule would return for snapshot(). */
  decide(): Plan {
    for (const name of this.touched) this.refreshPending(name);
    const examined = new Set<UnitRec>(this.stale);
    const start = new Set<UnitRec>(this.dirty);
    for (const name of this.pending.keys()) {
      const rec = this.index.rec(name);
      if (rec !== undefined) start.add(rec);
    }
    for (const rec of this.pushedLast) if (this.index.isLive(rec)) start.add(rec);

    // keep
    const kept = closeOverMachines(start, this.state, (r) => this.index.isLive(r));
    for (const rec of kept) {
      this.state.remove(rec);
      rec.note = undefined;
      rec.pushed = false;
      examined.add(rec);
    }
    const order = [...kept].sort(compareRecs);
    for (const rec of order) keepOne(rec, this.state);
    for (const rec of order) evictReplaced(rec, this.state);

    // place
    const queue = new RecQueue();
    this.placing = { queue, cursor: undefined, next: new Set(), pushed: new Set(), examined };
    for (const rec of order) if (rec.machine === undefined) queue.push(rec);
    for (const [rec, from] of this.origin) if (rec.machine !== from) this.touchRelated(rec);
    let tried = 0;
    const pushedNow: UnitRec[] = [];
    for (;;) {
      const failed: UnitRec[] = [];
      const pushed: UnitRec[] = [];
      this.placing.cursor = undefined;
      this.placing.pushed.clear();
      for (let rec = queue.pop(); rec !== undefined; rec = queue.pop()) {
        this.placing.cursor = rec;
        examined.add(rec);
        if (rec.machine !== undefined) continue;
        tried++;
        const choice = choose(rec, this.state);
        if (choice === undefined) failed.push(rec);
        else place(rec, choice, this.state, pushed);
      }
      if (pushed.length === 0) break;
      for (const r of pushed) {
        r.pushed = true;
        pushedNow.push(r);
      }
      // As decideSchedule: the next pass retries every unit that failed and every pushed one.
      for (const r of [...failed, ...pushed, ...this.placing.next]) if (r.machine === undefined) queue.push(r);
      this.placing.next.clear();
    }
    for (const r of this.placing.next) examined.add(r);
    this.placing = undefined;

    // diff
    const names = new Set(this.touched);
    for (const rec of examined) {
      if (!this.index.isLive(rec)) continue;
      if (rec.machine === undefined) this.reasons.set(rec, explainUnplaced(rec, this.state));
      names.add(rec.name);
      rec.note = undefined;
    }
    for (const rec of this.origin.keys()) names.add(rec.name);
    for (const name of names) this.refreshPending(name);
    this.pushedLast = pushedNow;
    this.origin.clear();
    this.dirty.clear();
    this.stale.clear();
    this.touched.clear();
    const planner = new PlanBuilder();
    for (const change of this.pending.values()) planner.submit(change);
    this.lastStats = { kept: kept.size, tried, changes: this.pending.size };
    return planner.build();
  }

  // ---------------------------------------------------------------------------------------

  private moved(rec: UnitRec, from: Slot | undefined, to: Slot | undefined): void {
    if (to !== undefined) {
      this.unplaced.delete(rec);
      let set = this.onSlot.get(to);
      if (set === undefined) this.onSlot.set(to, (set = new Set()));
      set.add(rec);
    } else this.unplaced.add(rec);
    if (from !== undefined) this.onSlot.get(from)?.delete(rec);
    if (!this.origin.has(rec)) this.origin.set(rec, from);
    const placing = this.placing;
    if (placing !== undefined) {
      placing.examined.add(rec);
      if (to === undefined && placing.cursor !== undefined) placing.pushed.add(rec);
      this.touchRelated(rec);
    }
  }

  /**
   * `rec` moved during the place step: its unplaced related units are tried in this pass when
   * the pass has not reached them yet, else in the next pass if there is one (decideSchedule
   * retries every failed unit after a push), and their reasons are computed again.
   */
  private touchRelated(rec: UnitRec): void {
    const placing = this.placing;
    if (placing === undefined) return;
    forRelated(rec, (u) => {
      if (u.machine !== undefined || !this.index.isLive(u)) return;
      placing.examined.add(u);
      if (placing.queue.has(u)) return;
      if (placing.pushed.has(u) || (placing.cursor !== undefined && compareRecs(u, placing.cursor) <= 0)) placing.next.add(u);
      else placing.queue.push(u);
    });
  }

  // ---- machines

  private putMachine(machine: Machine): void {
    const prev = this.machines.get(machine.id);
    this.machines.set(machine.id, machine);
    const hadNone = this.state.liveCount === 0;
    const { slot, joined, left, added } = this.state.putMachine(machine);
    if (prev !== undefined && !added && joined.length === 0 && left.length === 0) return;
    if (added) {
      this.repin(machine.id);
      for (const rec of this.unplaced) if (hadNone || rec.group.has(slot)) this.dirty.add(rec);
      return;
    }
    const leftSet = new Set(left);
    const joinedSet = new Set(joined);
    for (const rec of this.onSlot.get(slot) ?? []) if (leftSet.has(rec.group)) this.dirty.add(rec);
    for (const rec of this.unplaced) {
      if (joinedSet.has(rec.group)) this.dirty.add(rec);
      else if (leftSet.has(rec.group)) this.stale.add(rec);
    }
  }

  private dropMachine(id: string): void {
    if (!this.machines.delete(id)) return;
    const slot = this.state.machineIndex(id);
    if (slot === undefined) return;
    for (const rec of [...(this.onSlot.get(slot) ?? [])]) {
      this.state.remove(rec);
      this.dirty.add(rec);
    }
    const dropped = this.state.dropMachine(id);
    this.repin(id);
    const emptied = new Set((dropped?.left ?? []).filter((g) => g.size === 0));
    for (const rec of this.unplaced) if (this.state.liveCount === 0 || emptied.has(rec.group)) this.stale.add(rec);
  }

  private repin(machineId: string): void {
    for (const rec of this.index.pinnedTo(machineId)) {
      const required = this.state.requiredMachine(rec.req.machineId as string);
      if (required !== rec.requiredMachine) {
        rec.requiredMachine = required;
        this.dirty.add(rec);
      }
    }
  }

  // ---- stored placements and pending changes

  private setStored(name: string, p: Placement | undefined): void {
    if (p === undefined) this.stored.delete(name);
    else this.stored.set(name, p);
    this.touched.add(name);
    const rec = this.index.rec(name);
    if (rec === undefined) return;
    rec.stored = p;
    // Stored where the last decision put it: decideSchedule keeps it there too.
    const decided = rec.machine !== undefined ? this.state.machineId(rec.machine) : "";
    if ((p?.machineId ?? "") !== decided) this.dirty.add(rec);
  }

  private readonly reasonOf = (rec: UnitRec): string => this.reasons.get(rec) ?? explainUnplaced(rec, this.state);

  /** The pending change of this name now (diffUnit, with the last decision's reasons). */
  private refreshPending(name: string): void {
    const change = diffUnit(name, this.stored.get(name), this.index.everyUnit.get(name), this.state, this.reasonOf);
    if (change === undefined) this.pending.delete(name);
    else this.pending.set(name, change);
  }
}

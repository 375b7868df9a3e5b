// Resolving the units' requirements against each other, once per decision:
//
//   MachineOf   follower -> targets; depth = length of the longest target chain, so targets
//               are always handled before their followers; cycles found and named
//   Conflicts   one pattern group per distinct pattern: holders and matching units
//   Replaces    one-way replacement, or circular when two units replace each other
import { NameIndex } from "./name-index.js";
import type { ScheduleState } from "./schedule-state.js";
import { byName } from "./sorted.js";
import { addPattern, newPatternGroup, relate, UnitRec, type PatternGroup } from "./unit-record.js";
import type { Placement, Unit } from "../types.js";
import { readXFleet } from "../unit-files/x-fleet.js";

export interface Resolved {
  /** Units the engine places, sorted by name. */
  readonly recs: UnitRec[];
  /** The same units, targets before followers (depth, then name). */
  readonly order: UnitRec[];
  readonly names: NameIndex;
}

/**
 * The units the engine places (desired state not inactive, not global), resolved. Units
 * appearing twice in the snapshot count once (the first).
 */
export function resolveUnits(units: readonly Unit[], stored: ReadonlyMap<string, Placement>, state: ScheduleState): Resolved {
  const everyUnit = new Map<string, Unit | UnitRec>();
  const recs: UnitRec[] = [];
  for (const unit of units) {
    if (everyUnit.has(unit.name)) continue;
    everyUnit.set(unit.name, unit);
    if (unit.desiredState === "inactive") continue;
    const req = readXFleet(unit.name, unit.options);
    if (req.global) continue;
    const required = req.machineId === undefined ? "any" : state.requiredMachine(req.machineId);
    const rec = new UnitRec(unit, unit.name, req, stored.get(unit.name), state.group(req.metadata), required);
    recs.push(rec);
    everyUnit.set(unit.name, rec);
  }
  recs.sort(byName);
  const names = new NameIndex(recs, everyUnit);
  resolveMachineOf(recs, names);
  resolveConflicts(recs, names);
  resolveReplaces(recs, names);
  return { recs, order: byDepth(recs), names };
}

function resolveMachineOf(recs: readonly UnitRec[], names: NameIndex): void {
  for (const rec of recs) {
    for (const name of rec.req.machineOf) {
      const target = names.get(name);
      if (target !== undefined) {
        relate(rec, "targets", target);
        relate(target, "followers", rec);
        continue;
      }
      const entry = names.everyUnit.get(name);
      const unit = entry instanceof UnitRec ? entry.unit : entry;
      rec.targetProblem ??= machineOfProblem(name, unit);
    }
  }
  findDepthsAndCycles(recs);
}

/** Why MachineOf=name cannot be followed: the unit does not exist, is inactive, or is global. */
export function machineOfProblem(name: string, unit: Unit | undefined): string {
  if (unit === undefined) return `MachineOf=${name} does not exist`;
  if (unit.desiredState === "inactive") return `MachineOf=${name} is not scheduled (its desired state is inactive)`;
  return `MachineOf=${name} is a global unit, which is never scheduled to one machine`;
}

/** Depth-first over MachineOf edges without recursion (chains may be long). */
export function findDepthsAndCycles(recs: readonly UnitRec[]): void {
  const state = new Map<UnitRec, 1 | 2>(); // 1 on the path, 2 done
  const path: UnitRec[] = [];
  const next: number[] = [];
  for (const root of recs) {
    if (root.targets.length === 0 || state.has(root)) continue;
    path.push(root);
    next.push(0);
    state.set(root, 1);
    while (path.length > 0) {
      const top = path.length - 1;
      const node = path[top] as UnitRec;
      const i = next[top] as number;
      if (i < node.targets.length) {
        next[top] = i + 1;
        const target = node.targets[i] as UnitRec;
        const seen = state.get(target);
        if (seen === undefined) {
          state.set(target, 1);
          path.push(target);
          next.push(0);
        } else if (seen === 1) {
          markCycle(path.slice(path.indexOf(target)));
        }
        continue;
      }
      let depth = 0;
      for (const t of node.targets) depth = Math.max(depth, t.depth + 1);
      node.depth = depth;
      state.set(node, 2);
      path.pop();
      next.pop();
    }
  }
}

function markCycle(cycle: readonly UnitRec[]): void {
  let start = 0;
  cycle.forEach((r, i) => {
    if (r.name < (cycle[start] as UnitRec).name) start = i;
  });
  const names = [...cycle.slice(start), ...cycle.slice(0, start)].map((r) => r.name);
  const text = `MachineOf cycle: ${[...names, names[0]].join(" -> ")}`;
  for (const r of cycle) r.cycle ??= text;
}

function resolveConflicts(recs: readonly UnitRec[], names: NameIndex): void {
  const groups = new Map<string, PatternGroup>();
  for (const rec of recs) {
    for (const pattern of rec.req.conflicts) {
      let group = groups.get(pattern);
      if (group === undefined) {
        group = newPatternGroup(pattern);
        groups.set(pattern, group);
      }
      group.holders.push(rec);
      addPattern(rec, "ownPatterns", group);
    }
  }
  for (const group of groups.values()) {
    for (const match of names.matching(group.pattern)) {
      group.matches.push(match);
      addPattern(match, "matchedBy", group);
    }
  }
}

function resolveReplaces(recs: readonly UnitRec[], names: NameIndex): void {
  const targets = new Map<UnitRec, Set<UnitRec>>();
  for (const rec of recs) {
    if (rec.req.replaces.length === 0) continue;
    const set = new Set<UnitRec>();
    for (const pattern of rec.req.replaces) for (const match of names.matching(pattern)) if (match !== rec) set.add(match);
    targets.set(rec, set);
  }
  for (const [rec, replaced] of targets) {
    for (const other of replaced) {
      if (targets.get(other)?.has(rec)) {
        relate(rec, "circular", other);
      } else {
        relate(rec, "replaces", other);
        relate(other, "replacedBy", rec);
      }
    }
  }
}

/** Stable by name within each depth. */
function byDepth(recs: readonly UnitRec[]): UnitRec[] {
  let maxDepth = 0;
  for (const r of recs) if (r.depth > maxDepth) maxDepth = r.depth;
  if (maxDepth === 0) return [...recs];
  const buckets: UnitRec[][] = Array.from({ length: maxDepth + 1 }, () => []);
  for (const r of recs) (buckets[r.depth] as UnitRec[]).push(r);
  return buckets.flat();
}

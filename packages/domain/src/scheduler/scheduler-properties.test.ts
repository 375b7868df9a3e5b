// Property tests on random clusters: whatever the cluster, the decision never breaks a rule,
// leaves no unit unplaced that some machine could take, is deterministic, and is idempotent
// (applying it and deciding again changes nothing). The checker below is written from the
// rules, not from the scheduler's code.
import { describe, expect, it } from "vitest";
import { globMatches } from "./glob.js";
import { machineMatchesMetadata } from "./metadata-match.js";
import type { ClusterSnapshot } from "./scheduler.js";
import { applyChanges, decideChanges, hexMachine, randomCluster, seeded } from "./scheduler-fixtures.js";
import type { Machine, Unit } from "../types.js";
import { readXFleet, type XFleetRequirements } from "../unit-files/index.js";

interface View {
  req: Map<string, XFleetRequirements>;
  wanted: Set<string>;
  machines: Map<string, Machine>;
  on: Map<string, string>;
  byMachine: Map<string, string[]>;
}

function view(after: ClusterSnapshot): View {
  const req = new Map(after.units.map((u) => [u.name, readXFleet(u.name, u.options)]));
  const wanted = new Set(after.units.filter((u) => u.desiredState !== "inactive" && !req.get(u.name)?.global).map((u) => u.name));
  const on = new Map(after.placements.filter((p) => p.machineId !== "").map((p) => [p.unitName, p.machineId]));
  const byMachine = new Map<string, string[]>();
  for (const [unit, m] of on) byMachine.set(m, [...(byMachine.get(m) ?? []), unit]);
  return { req, wanted, machines: new Map(after.machines.map((m) => [m.id, m])), on, byMachine };
}

const conflict = (v: View, a: string, b: string): boolean =>
  a !== b && ((v.req.get(a)?.conflicts ?? []).some((p) => globMatches(p, b)) || (v.req.get(b)?.conflicts ?? []).some((p) => globMatches(p, a)));
const replaces = (v: View, a: string, b: string): boolean => a !== b && (v.req.get(a)?.replaces ?? []).some((p) => globMatches(p, b));
const oneWayReplace = (v: View, a: string, b: string): boolean => replaces(v, a, b) && !replaces(v, b, a);

/** Why `unit` may not be on machine `m` given the other placed units, or undefined. */
function breaks(v: View, unit: string, m: string, mayPush: boolean): string | undefined {
  const req = v.req.get(unit) as XFleetRequirements;
  const machine = v.machines.get(m);
  if (!machine) return "machine not live";
  if (req.machineId !== undefined && req.machineId.toLowerCase() !== m.toLowerCase()) return "MachineID";
  if (!machineMatchesMetadata(machine.metadata, req.metadata)) return "MachineMetadata";
  for (const target of req.machineOf) if (v.on.get(target) !== m) return `MachineOf ${target}`;
  for (const other of v.byMachine.get(m) ?? []) {
    if (other === unit) continue;
    if (conflict(v, unit, other)) return `conflicts with ${other}`;
    if (oneWayReplace(v, other, unit)) return `replaced by ${other}`;
    if (!mayPush && oneWayReplace(v, unit, other)) return `replaces ${other}`;
  }
  for (const [other] of v.on) if (other !== unit && replaces(v, unit, other) && replaces(v, other, unit)) return `circular with ${other}`;
  return undefined;
}

function checkInvariants(after: ClusterSnapshot, label: string): void {
  const v = view(after);
  for (const [unit, m] of v.on) {
    expect(v.wanted.has(unit), `${label}: ${unit} placed but not wanted`).toBe(true);
    expect(breaks(v, unit, m, false), `${label}: ${unit} on ${m}`).toBeUndefined();
  }
  for (const p of after.placements) {
    if (p.machineId === "") expect(p.reason, `${label}: ${p.unitName} unplaced without a reason`).not.toBe("");
  }
  for (const unit of v.wanted) {
    if (v.on.has(unit)) continue;
    expect(after.placements.find((p) => p.unitName === unit)?.reason, `${label}: ${unit} has no reason`).toBeTruthy();
    const mayPush = true;
    for (const m of v.machines.keys()) {
      expect(breaks(v, unit, m, mayPush), `${label}: ${unit} unplaced though ${m} could take it`).toBeDefined();
    }
  }
}

function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Machines die and join, metadata changes, units flip state, go and come. */
function mutate(snapshot: ClusterSnapshot, rand: () => number, round: number): ClusterSnapshot {
  let machines = snapshot.machines.filter(() => rand() > 0.15);
  if (rand() < 0.5) machines = [...machines, hexMachine(1000 + round, { region: rand() < 0.5 ? "east" : "west", rack: `r${round % 5}` })];
  machines = machines.map((m) => (rand() < 0.1 ? { ...m, metadata: { ...m.metadata, region: rand() < 0.5 ? "north" : "south" } } : m));
  const units: Unit[] = snapshot.units
    .filter(() => rand() > 0.05)
    .map((u) => (rand() < 0.1 ? { ...u, desiredState: u.desiredState === "inactive" ? "launched" : "inactive" } : u));
  const extra = randomCluster(round * 7919, { machines: machines.length, units: 3 }).units.map((u) => ({ ...u, name: u.name.replace(".", `-r${round}.`) }));
  return { units: [...units, ...extra], machines, placements: snapshot.placements };
}

// Hundreds of random clusters: seconds of CPU, more on a loaded machine than vitest's 5 s default.
describe("decideSchedule: properties on random clusters", { timeout: 60_000 }, () => {
  it("never breaks a rule, places every unit some machine can take, and is idempotent", () => {
    for (let seed = 1; seed <= 150; seed++) {
      const rand = seeded(seed);
      let snapshot = randomCluster(seed, { machines: 1 + Math.floor(rand() * 8), units: 5 + Math.floor(rand() * 55) });
      for (let round = 0; round < 4; round++) {
        const label = `seed ${seed} round ${round}`;
        const after = applyChanges(snapshot, decideChanges(snapshot));
        checkInvariants(after, label);
        expect(decideChanges(after), `${label}: not idempotent`).toEqual([]);
        snapshot = mutate(after, rand, round + 1);
      }
    }
  });

  it("does not depend on the order of units, machines or placements", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = seeded(seed * 31);
      const snapshot = randomCluster(seed, { machines: 2 + Math.floor(rand() * 6), units: 10 + Math.floor(rand() * 40) });
      const settled = applyChanges(snapshot, decideChanges(snapshot));
      const next = mutate(settled, rand, 1);
      const reordered: ClusterSnapshot = {
        units: shuffled(next.units, rand),
        machines: shuffled(next.machines, rand),
        placements: shuffled(next.placements, rand),
      };
      expect(decideChanges(reordered), `seed ${seed}`).toEqual(decideChanges(next));
    }
  });

  it("balances plain units: machine loads differ by at most one", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rand = seeded(seed);
      const snapshot = randomCluster(seed, { machines: 1 + Math.floor(rand() * 10), units: 0 });
      const units = Array.from({ length: Math.floor(rand() * 80) }, (_, i) => ({
        name: `u${i}.service`,
        options: [],
        hash: "h",
        desiredState: "launched" as const,
      }));
      const after = applyChanges({ ...snapshot, units }, decideChanges({ ...snapshot, units }));
      const counts = snapshot.machines.map((m) => after.placements.filter((p) => p.machineId === m.id).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });
});

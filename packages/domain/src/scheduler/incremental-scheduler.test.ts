// The incremental scheduler's contract: after any sequence of deltas, decide() returns exactly
// what decideSchedule returns for the equivalent full snapshot. Random clusters from the
// scheduler fixtures, random deltas of every kind (units added, changed, stopped, destroyed;
// machines lost, joined, back under the same id, metadata changed; decisions applied in full, in part or not at all;
// placements written by someone else), compared at every step.
import { describe, expect, it } from "vitest";
import { IncrementalScheduler, type ScheduleDelta } from "./incremental-scheduler.js";
import { planChanges } from "./plan.js";
import type { ClusterSnapshot } from "./scheduler.js";
import { decideChanges, hexMachine, randomCluster, seeded, xUnit } from "./scheduler-fixtures.js";
import { makeMachine, makeUnit, placed } from "../fixtures.js";
import type { Machine, Placement, Unit } from "../types.js";

/** The full snapshot a sequence of deltas stands for, kept independently of the scheduler. */
class Model {
  units = new Map<string, Unit>();
  placements = new Map<string, Placement>();
  machines = new Map<string, Machine>();
  /** Machines that left, which may come back under the same id. */
  gone: Machine[] = [];

  constructor(snapshot: ClusterSnapshot) {
    for (const u of snapshot.units) if (!this.units.has(u.name)) this.units.set(u.name, u);
    for (const p of snapshot.placements) this.placements.set(p.unitName, p);
    for (const m of snapshot.machines) this.machines.set(m.id, m);
  }

  apply(d: ScheduleDelta): void {
    for (const id of d.removedMachines ?? []) {
      const m = this.machines.get(id);
      if (m) this.gone.push(m);
      this.machines.delete(id);
    }
    for (const m of d.machines ?? []) this.machines.set(m.id, m);
    for (const n of d.removedUnits ?? []) this.units.delete(n);
    for (const u of d.units ?? []) this.units.set(u.name, u);
    for (const n of d.removedPlacements ?? []) this.placements.delete(n);
    for (const p of d.placements ?? []) {
      if (p.machineId === "" && p.reason === "") this.placements.delete(p.unitName);
      else this.placements.set(p.unitName, p);
    }
  }

  snapshot(): ClusterSnapshot {
    return { units: [...this.units.values()], placements: [...this.placements.values()], machines: [...this.machines.values()] };
  }
}

const REGIONS = ["east", "west", "north", "south"];

/** One random delta: what the engine applied of its last decision, plus what else happened. */
function randomDelta(model: Model, decision: readonly Placement[], rand: () => number, step: number): ScheduleDelta {
  const pick = <T,>(xs: readonly T[]): T | undefined => xs[Math.floor(rand() * xs.length)];
  const units: Unit[] = [];
  const removedUnits: string[] = [];
  const machines: Machine[] = [];
  const removedMachines: string[] = [];
  const placements: Placement[] = [];
  // The engine's writes: all of them, some, or none (a failed apply).
  const r = rand();
  for (const c of decision) if (r < 0.6 || (r < 0.85 && rand() < 0.5)) placements.push(c);
  const names = [...model.units.keys()];
  const ids = [...model.machines.keys()];
  const kind = rand();
  if (kind < 0.15 && ids.length > 0) removedMachines.push(pick(ids) as string);
  else if (kind < 0.2 && model.gone.length > 0) {
    const back = pick(model.gone) as Machine;
    if (!model.machines.has(back.id)) machines.push(rand() < 0.5 ? back : { ...back, metadata: { ...back.metadata, region: pick(REGIONS) as string } });
  } else if (kind < 0.27) machines.push(hexMachine(500 + step, { region: pick(REGIONS) as string, rack: `r${step % 7}`, ...(rand() < 0.5 ? { disk: "ssd" } : {}) }));
  else if (kind < 0.37 && ids.length > 0) {
    const m = model.machines.get(pick(ids) as string) as Machine;
    machines.push({ ...m, metadata: { ...m.metadata, region: pick(REGIONS) as string, ...(rand() < 0.3 ? { rack: `r${step % 60}` } : {}) } });
  }
  const unitEvents = Math.floor(rand() * 4);
  for (let i = 0; i < unitEvents; i++) {
    const e = rand();
    const name = pick(names);
    if (e < 0.3) {
      const fresh = randomCluster(step * 131 + i, { machines: Math.max(1, ids.length), units: 2 }).units;
      for (const u of fresh) units.push({ ...u, name: u.name.replace(".service", `-s${step}.service`).replace("-s", `-${i}s`) });
    } else if (e < 0.45) {
      // A unit named like an existing MachineOf / Replaces / Conflicts target comes back.
      const target = pick(["web1@3.service", "old-4.service", "app-9.service", "loop-b-2.service", "pong-7.service"]) as string;
      units.push(xUnit(target, rand() < 0.5 ? {} : { Conflicts: "web1@*.service" }));
    } else if (name !== undefined && e < 0.65) {
      const u = model.units.get(name) as Unit;
      units.push({ ...u, desiredState: u.desiredState === "inactive" ? "launched" : rand() < 0.5 ? "inactive" : "loaded" });
    } else if (name !== undefined && e < 0.8) {
      removedUnits.push(name);
    } else if (name !== undefined && e < 0.9) {
      const other = pick(names) as string;
      units.push(xUnit(name, pick([{ MachineOf: other }, { Conflicts: other }, { Replaces: other }, { MachineMetadata: `region=${pick(REGIONS)}` }, {}]) as Record<string, string>));
    } else if (name !== undefined && ids.length > 0) {
      // Someone else wrote a placement.
      placements.push(rand() < 0.7 ? placed(name, pick(ids) as string, "by hand") : placed(name, "", "stale reason"));
    }
  }
  return { units, removedUnits, machines, removedMachines, placements };
}

function runSequence(seed: number, nMachines: number, nUnits: number, steps: number): void {
  const rand = seeded(seed);
  const start = randomCluster(seed, { machines: nMachines, units: nUnits });
  const model = new Model(start);
  const inc = IncrementalScheduler.fromSnapshot(start);
  for (let step = 0; step < steps; step++) {
    const want = decideChanges(model.snapshot());
    const got = planChanges(inc.decide());
    expect(got, `seed ${seed} step ${step}`).toEqual(want);
    const delta = randomDelta(model, got, rand, step + 1);
    model.apply(delta);
    inc.apply(delta);
  }
}

// Hundreds of random deltas: seconds of CPU, more on a loaded machine than vitest's 5 s default.
describe("IncrementalScheduler: decide() equals decideSchedule of the full snapshot", { timeout: 60_000 }, () => {
  it("on small random clusters through random deltas", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = seeded(seed * 7);
      runSequence(seed, 1 + Math.floor(rand() * 8), 5 + Math.floor(rand() * 50), 12);
    }
  });

  it("on larger clusters through longer sequences", () => {
    for (let seed = 1; seed <= 12; seed++) runSequence(1000 + seed, 20 + seed * 3, 300 + seed * 20, 25);
  });

  it("decides nothing again once its decision is applied", () => {
    const snapshot = randomCluster(3, { machines: 30, units: 400 });
    const inc = IncrementalScheduler.fromSnapshot(snapshot);
    const first = planChanges(inc.decide());
    expect(first.length).toBeGreaterThan(0);
    inc.apply({ placements: first });
    expect(planChanges(inc.decide())).toEqual([]);
    expect(inc.lastStats.tried).toBe(0);
  });

  it("does work proportional to the change: one new unit on a settled cluster", () => {
    const inc = IncrementalScheduler.fromSnapshot(randomCluster(5, { machines: 50, units: 2000 }));
    inc.apply({ placements: planChanges(inc.decide()) });
    planChanges(inc.decide());
    inc.apply({ units: [makeUnit("late.service")] });
    expect(planChanges(inc.decide()).map((c) => c.unitName)).toEqual(["late.service"]);
    expect(inc.lastStats.kept).toBeLessThan(5);
    expect(inc.lastStats.tried).toBeLessThan(5);
  });

  it("moves the units of a lost machine, and only those", () => {
    const machines = [makeMachine("m1"), makeMachine("m2"), makeMachine("m3")];
    const units = ["a", "b", "c", "d", "e", "f"].map((n) => makeUnit(`${n}.service`));
    const inc = IncrementalScheduler.fromSnapshot({ units, placements: [], machines });
    inc.apply({ placements: planChanges(inc.decide()) });
    inc.apply({ removedMachines: ["m2"] });
    const changes = planChanges(inc.decide());
    expect(changes.map((c) => c.reason)).toEqual(["machine m2 went away", "machine m2 went away"]);
    expect(changes.every((c) => c.machineId !== "m2")).toBe(true);
  });

  it("treats a written placement with no machine and no reason as deleted", () => {
    const inc = IncrementalScheduler.fromSnapshot({ units: [], placements: [placed("x.service", "m1", "old")], machines: [makeMachine("m1")] });
    expect(planChanges(inc.decide())).toEqual([{ unitName: "x.service", machineId: "", reason: "" }]);
    inc.apply({ placements: [{ unitName: "x.service", machineId: "", reason: "" }] });
    expect(planChanges(inc.decide())).toEqual([]);
  });
});

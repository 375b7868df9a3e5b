// Fixture builders for scheduler tests and the scheduler benchmark: units with [X-Fleet]
// options, machines with 32-hex ids, applying a decision to a snapshot, and seeded random
// clusters that mix every constraint.
import { applyPlacements, planChanges } from "./plan.js";
import { decideSchedule, type ClusterSnapshot } from "./scheduler.js";
import { unitHash } from "../unit-files/unit-hash.js";
import type { Machine, Placement, TargetState, Unit, UnitOption } from "../types.js";

/** X-Fleet options as name -> value (or several values, one line each). */
export type XFleetSpec = Record<string, string | readonly string[]>;

export function xFleetOptions(spec: XFleetSpec): UnitOption[] {
  const out: UnitOption[] = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
  for (const [name, value] of Object.entries(spec)) {
    for (const v of typeof value === "string" ? [value] : value) out.push({ section: "X-Fleet", name, value: v });
  }
  return out;
}

export function xUnit(name: string, spec: XFleetSpec = {}, desiredState: TargetState = "launched"): Unit {
  const options = xFleetOptions(spec);
  return { name, options, hash: unitHash(options), desiredState };
}

/** A 32-hex machine id that sorts by n: hexId(1) = "000…01". */
export function hexId(n: number): string {
  return n.toString(16).padStart(32, "0");
}

export function hexMachine(n: number, metadata: Record<string, string> = {}): Machine {
  return { id: hexId(n), publicIp: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, metadata };
}

/** The snapshot after the engine applied `changes` (a change with machineId "" and reason "" deletes). */
export function applyChanges(snapshot: ClusterSnapshot, changes: readonly Placement[]): ClusterSnapshot {
  return { ...snapshot, placements: applyPlacements(snapshot.placements, changes) };
}

/** decideSchedule's plan as the placement records the engine writes. */
export function decideChanges(snapshot: ClusterSnapshot): Placement[] {
  return planChanges(decideSchedule(snapshot));
}

/** A deterministic pseudo-random generator in [0, 1). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export interface RandomClusterOptions {
  readonly machines: number;
  readonly units: number;
}

const REGIONS = ["east", "west", "north", "south"];

/**
 * A cluster mixing every constraint: plain units, MachineMetadata (AND, OR, quoted), Conflicts
 * globs over template instances (deprecated spelling too), MachineOf sidekicks (specifiers),
 * MachineID, Replaces (one way and circular), MachineOf cycles, global and inactive units.
 */
export function randomCluster(seed: number, { machines: nMachines, units: nUnits }: RandomClusterOptions): ClusterSnapshot {
  const rand = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const machines: Machine[] = [];
  for (let i = 0; i < nMachines; i++) {
    const metadata: Record<string, string> = { region: pick(REGIONS), rack: `r${i % 50}` };
    if (rand() < 0.5) metadata.disk = "ssd";
    machines.push(hexMachine(i + 1, metadata));
  }
  const units: Unit[] = [];
  const state = (): TargetState => (rand() < 0.05 ? "inactive" : rand() < 0.2 ? "loaded" : "launched");
  let i = 0;
  while (units.length < nUnits) {
    const kind = rand();
    const n = i++;
    if (kind < 0.3) {
      units.push(xUnit(`app-${n}.service`, {}, state()));
    } else if (kind < 0.45) {
      units.push(xUnit(`db-${n}.service`, { MachineMetadata: [`"region=${pick(REGIONS)}" "disk=ssd"`, `region=${pick(REGIONS)}`] }, state()));
    } else if (kind < 0.55) {
      units.push(xUnit(`cache@${n}.service`, { "X-ConditionMachineMetadata": `rack=r${n % 60}` }, state()));
    } else if (kind < 0.7) {
      const group = n % 7;
      units.push(xUnit(`web${group}@${n}.service`, { Conflicts: `web${group}@*.service` }, state()));
      units.push(xUnit(`side${group}@${n}.service`, { MachineOf: `web${group}@%i.service`, "X-Conflicts": "nothing-*.service" }, state()));
    } else if (kind < 0.75) {
      units.push(xUnit(`pinned-${n}.service`, { MachineID: (machines.length > 0 ? pick(machines).id : hexId(1)) }, state()));
    } else if (kind < 0.8) {
      units.push(xUnit(`old-${n}.service`, {}, state()));
      units.push(xUnit(`new-${n}.service`, { Replaces: `old-${n}.service` }, state()));
    } else if (kind < 0.81) {
      units.push(xUnit(`ping-${n}.service`, { Replaces: `pong-${n}.service` }, state()));
      units.push(xUnit(`pong-${n}.service`, { Replaces: `ping-${n}.service` }, state()));
    } else if (kind < 0.815) {
      units.push(xUnit(`loop-a-${n}.service`, { MachineOf: `loop-b-${n}.service` }, state()));
      units.push(xUnit(`loop-b-${n}.service`, { MachineOf: `loop-a-${n}.service` }, state()));
    } else if (kind < 0.83) {
      units.push(xUnit(`global-${n}.service`, { Global: "true", MachineMetadata: `region=${pick(REGIONS)}` }, state()));
    } else if (kind < 0.9) {
      units.push(xUnit(`solo-${n}.service`, { Conflicts: `solo-${n % 40}*` }, state()));
    } else {
      units.push(xUnit(`misc-${n}.service`, { MachineMetadata: `region=${pick(REGIONS)}`, Conflicts: `app-${n - 1}.service` }, state()));
    }
  }
  return { units, placements: [], machines };
}

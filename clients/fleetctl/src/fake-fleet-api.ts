// An in-memory FleetApi that records every call, for testing commands without a server.
// It plays a tiny cluster: after a desired-state change, the unit reaches that state after
// `convergeAfterPolls` reads of it (GetUnit), placed on `placeOn` (or unplaced for inactive).
import type { Machine, TargetState, Unit, UnitState } from "@fleet/domain";
import type { FleetApi, UnitView } from "./fleet-api.js";

export type FakeCall =
  | { readonly method: "getUnit"; readonly name: string }
  | { readonly method: "listUnits" }
  | { readonly method: "createUnit"; readonly unit: Unit }
  | { readonly method: "setUnitTargetState"; readonly name: string; readonly state: TargetState }
  | { readonly method: "destroyUnit"; readonly name: string }
  | { readonly method: "listUnitStates" }
  | { readonly method: "listMachines" };

export type FakeMethod = FakeCall["method"];

export interface FakeFleetApiOptions {
  readonly units?: readonly UnitView[];
  readonly machines?: readonly Machine[];
  readonly states?: readonly UnitState[];
  /** Reads of a unit before it reaches a new desired state; "never" keeps it where it is. */
  readonly convergeAfterPolls?: number | "never";
  /** Machine a unit lands on when it is loaded or launched; defaults to the first machine. */
  readonly placeOn?: string;
}

interface Pending {
  readonly target: TargetState;
  remaining: number;
}

export class FakeFleetApi implements FleetApi {
  readonly calls: FakeCall[] = [];
  readonly units = new Map<string, UnitView>();
  machines: Machine[];
  states: UnitState[];
  convergeAfterPolls: number | "never";
  placeOn: string | undefined;
  closed = false;
  private readonly pending = new Map<string, Pending>();
  private readonly failures = new Map<FakeMethod, Error>();

  constructor(options: FakeFleetApiOptions = {}) {
    for (const view of options.units ?? []) this.units.set(view.unit.name, view);
    this.machines = [...(options.machines ?? [])];
    this.states = [...(options.states ?? [])];
    this.convergeAfterPolls = options.convergeAfterPolls ?? 0;
    this.placeOn = options.placeOn;
  }

  /** Makes every later call of `method` fail with `error`. */
  failOn(method: FakeMethod, error: Error): void {
    this.failures.set(method, error);
  }

  /** The calls that changed something, in order. */
  writes(): FakeCall[] {
    return this.calls.filter((c) => c.method === "createUnit" || c.method === "setUnitTargetState" || c.method === "destroyUnit");
  }

  private record(call: FakeCall): void {
    this.calls.push(call);
    const failure = this.failures.get(call.method);
    if (failure) throw failure;
  }

  private reach(name: string, target: TargetState): void {
    const view = this.units.get(name);
    if (!view) return;
    const machineId = target === "inactive" ? "" : (this.placeOn ?? this.machines[0]?.id ?? "");
    this.units.set(name, { ...view, currentState: target, machineId });
  }

  async getUnit(name: string): Promise<UnitView | undefined> {
    this.record({ method: "getUnit", name });
    const pending = this.pending.get(name);
    if (pending && this.convergeAfterPolls !== "never") {
      if (pending.remaining <= 0) {
        this.pending.delete(name);
        this.reach(name, pending.target);
      } else {
        pending.remaining--;
      }
    }
    return this.units.get(name);
  }

  async listUnits(): Promise<UnitView[]> {
    this.record({ method: "listUnits" });
    return [...this.units.values()];
  }

  async createUnit(unit: Unit): Promise<void> {
    this.record({ method: "createUnit", unit });
    if (this.units.has(unit.name)) throw new Error(`unit ${unit.name} already exists`);
    this.units.set(unit.name, { unit, machineId: "", currentState: "inactive", reason: "" });
  }

  async setUnitTargetState(name: string, state: TargetState): Promise<void> {
    this.record({ method: "setUnitTargetState", name, state });
    const view = this.units.get(name);
    if (!view) throw new Error(`unit ${name} not found`);
    this.units.set(name, { ...view, unit: { ...view.unit, desiredState: state } });
    if (this.convergeAfterPolls === "never") return;
    this.pending.set(name, { target: state, remaining: this.convergeAfterPolls });
  }

  async destroyUnit(name: string): Promise<boolean> {
    this.record({ method: "destroyUnit", name });
    this.pending.delete(name);
    return this.units.delete(name);
  }

  async listUnitStates(): Promise<UnitState[]> {
    this.record({ method: "listUnitStates" });
    return [...this.states];
  }

  async listMachines(): Promise<Machine[]> {
    this.record({ method: "listMachines" });
    return [...this.machines];
  }

  close(): void {
    this.closed = true;
  }
}

// An in-memory FleetBackend for the HTTP contract tests: holds units, states and machines,
// records every write, and fails like the real one (not-found, already-exists).
import { FleetError } from "@fleet/wire";
import type { Machine, TargetState, Unit, UnitState } from "@fleet/domain";
import type { BackendCall, FleetBackend, MetadataChange, ReplaceOutcome, StateFilter, UnitView } from "./fleet-backend.js";

export type FakeWrite =
  | { readonly method: "replaceUnit"; readonly unit: Unit }
  | { readonly method: "setUnitTargetState"; readonly name: string; readonly state: TargetState }
  | { readonly method: "destroyUnit"; readonly name: string }
  | { readonly method: "setMachineMetadata"; readonly change: MetadataChange };

export interface FakeFleetBackendOptions {
  readonly units?: readonly UnitView[];
  readonly states?: readonly UnitState[];
  readonly machines?: readonly Machine[];
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class FakeFleetBackend implements FleetBackend {
  readonly writes: FakeWrite[] = [];
  readonly requestIds: string[] = [];
  readonly units = new Map<string, UnitView>();
  states: UnitState[];
  machines: Machine[];
  /** When set, every call fails with it. */
  failure: Error | undefined;

  constructor(options: FakeFleetBackendOptions = {}) {
    for (const view of options.units ?? []) this.units.set(view.unit.name, view);
    this.states = [...(options.states ?? [])];
    this.machines = [...(options.machines ?? [])];
  }

  private called(call: BackendCall): void {
    this.requestIds.push(call.requestId);
    if (this.failure) throw this.failure;
  }

  async getUnit(name: string, call: BackendCall): Promise<UnitView | undefined> {
    this.called(call);
    return this.units.get(name);
  }

  async listUnits(call: BackendCall, page?: { offset: number; limit: number }): Promise<{ units: UnitView[]; total: number }> {
    this.called(call);
    const all = [...this.units.values()].sort((a, b) => byName(a.unit.name, b.unit.name));
    return { units: page && page.limit > 0 ? all.slice(page.offset, page.offset + page.limit) : all, total: all.length };
  }

  /** Keeps the placement of a unit it replaces, as the registry does. */
  async replaceUnit(unit: Unit, call: BackendCall): Promise<ReplaceOutcome> {
    this.called(call);
    const view = this.units.get(unit.name);
    if (view && view.unit.hash === unit.hash && view.unit.desiredState === unit.desiredState) return { created: false, replaced: false };
    this.writes.push({ method: "replaceUnit", unit });
    this.units.set(unit.name, view ? { ...view, unit } : { unit, machineId: "", currentState: "inactive", reason: "" });
    return { created: view === undefined, replaced: view !== undefined && view.unit.hash !== unit.hash };
  }

  async setUnitTargetState(name: string, state: TargetState, call: BackendCall): Promise<void> {
    this.called(call);
    const view = this.units.get(name);
    if (!view) throw new FleetError("not-found", `Unit ${name} not found`);
    this.writes.push({ method: "setUnitTargetState", name, state });
    this.units.set(name, { ...view, unit: { ...view.unit, desiredState: state } });
  }

  async destroyUnit(name: string, call: BackendCall): Promise<void> {
    this.called(call);
    if (!this.units.has(name)) throw new FleetError("not-found", `Unit ${name} not found`);
    this.writes.push({ method: "destroyUnit", name });
    this.units.delete(name);
  }

  async listUnitStates(filter: StateFilter, call: BackendCall): Promise<UnitState[]> {
    this.called(call);
    return this.states.filter(
      (s) => (filter.machineId === "" || s.machineId === filter.machineId) && (filter.unitName === "" || s.name === filter.unitName),
    );
  }

  async listMachines(call: BackendCall): Promise<Machine[]> {
    this.called(call);
    return [...this.machines].sort((a, b) => byName(a.id, b.id));
  }

  async setMachineMetadata(change: MetadataChange, call: BackendCall): Promise<void> {
    this.called(call);
    this.writes.push({ method: "setMachineMetadata", change });
    this.machines = this.machines.map((m) => {
      if (m.id !== change.machineId) return m;
      const metadata = { ...m.metadata, ...change.set };
      for (const key of change.remove) delete metadata[key];
      return { ...m, metadata };
    });
  }
}

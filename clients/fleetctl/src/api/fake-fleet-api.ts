// An in-memory FleetApi that records every call, for testing commands without a server.
// It plays a tiny cluster: after a desired-state change, the unit reaches that state after
// `convergeAfterPolls` reads of it (GetUnit), placed on `placeOn` (or unplaced for inactive),
// and its machine reports systemd's state of it (active once launched, unless `activeStates`
// says otherwise).
import type { Machine, TargetState, Unit, UnitState } from "@fleet/domain";
import type { FleetApi, JournalOptions, JournalStream, MachineHealth, UnitStatus, UnitView } from "./fleet-api.js";

export type FakeCall =
  | { readonly method: "getUnit"; readonly name: string }
  | { readonly method: "listUnits" }
  | { readonly method: "createUnit"; readonly unit: Unit }
  | { readonly method: "createUnitIfAbsent"; readonly unit: Unit }
  | { readonly method: "createUnitsIfAbsent"; readonly units: readonly Unit[] }
  | { readonly method: "setUnitTargetState"; readonly name: string; readonly state: TargetState }
  | { readonly method: "destroyUnit"; readonly name: string }
  | { readonly method: "listUnitStates"; readonly unitNames?: readonly string[] }
  | { readonly method: "listMachines" }
  | { readonly method: "unitStatus"; readonly name: string }
  | { readonly method: "journal"; readonly name: string; readonly options: JournalOptions };

export type FakeMethod = FakeCall["method"];

export interface FakeFleetApiOptions {
  readonly units?: readonly UnitView[];
  readonly machines?: readonly Machine[];
  readonly states?: readonly UnitState[];
  /** Reads of a unit before it reaches a new desired state; "never" keeps it where it is. */
  readonly convergeAfterPolls?: number | "never";
  /** Machine a unit lands on when it is loaded or launched; defaults to the first machine. */
  readonly placeOn?: string;
  /** What unitStatus answers per unit (default: "● <name>\n", exit 0). */
  readonly statuses?: Readonly<Record<string, UnitStatus>>;
  /** What journal sends at once per unit. */
  readonly journals?: Readonly<Record<string, readonly string[]>>;
  /** An endpoint without status and journal (HTTP API v1): fleetctl must use ssh. */
  readonly noAgentAccess?: boolean;
  /** systemd's ActiveState of a unit once it is launched, per unit (default "active"); e.g.
   * "failed" for a unit whose process exits at once. */
  readonly activeStates?: Readonly<Record<string, string>>;
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
  private readonly statuses: Readonly<Record<string, UnitStatus>>;
  private readonly activeStates: Readonly<Record<string, string>>;
  /** The states the fake's machines reported for units that reached a state here. */
  private readonly reported = new Map<string, UnitState>();
  private readonly journals: Readonly<Record<string, readonly string[]>>;
  /** Followers of journals, by unit: push() sends them more. */
  private readonly followers = new Map<string, (text: string) => void>();
  createUnitIfAbsent?: (unit: Unit) => Promise<boolean>;
  createUnitsIfAbsent?: (units: readonly Unit[]) => Promise<boolean[]>;
  /** None by default (commands then poll); tests that need one set it. */
  watchUnits?: FleetApi["watchUnits"];
  unitStatus?: (name: string) => Promise<UnitStatus>;
  /** None by default (as on HTTP API v1); tests that need the engine's word set it. */
  machineHealth?: () => Promise<MachineHealth>;
  journal?: (name: string, options: JournalOptions, onData: (text: string) => void) => JournalStream;

  constructor(options: FakeFleetApiOptions = {}) {
    this.statuses = options.statuses ?? {};
    this.activeStates = options.activeStates ?? {};
    this.journals = options.journals ?? {};
    if (!options.noAgentAccess) {
      this.createUnitIfAbsent = (unit) => this.fakeCreateUnitIfAbsent(unit);
      this.createUnitsIfAbsent = (units) => this.fakeCreateUnitsIfAbsent(units);
      this.unitStatus = (name) => this.fakeUnitStatus(name);
      this.journal = (name, opts, onData) => this.fakeJournal(name, opts, onData);
    }
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

  /** The calls that changed something, in order (a unit an ...IfAbsent call created counts as createUnit). */
  writes(): FakeCall[] {
    return this.calls.flatMap((c): FakeCall[] => {
      if (c.method === "createUnitIfAbsent" || c.method === "createUnitsIfAbsent") return (this.createdBy.get(c) ?? []).map((unit) => ({ method: "createUnit", unit }));
      return c.method === "createUnit" || c.method === "setUnitTargetState" || c.method === "destroyUnit" ? [c] : [];
    });
  }

  /** The units each ...IfAbsent call created (not those that existed). */
  private readonly createdBy = new Map<FakeCall, Unit[]>();

  private createIfAbsent(call: FakeCall, units: readonly Unit[]): boolean[] {
    const created: Unit[] = [];
    this.createdBy.set(call, created);
    return units.map((unit) => {
      if (this.units.has(unit.name)) return false;
      created.push(unit);
      this.addUnit(unit);
      return true;
    });
  }

  /** As FleetService.CreateUnits: one invalid unit (here: a name given twice) fails it all. */
  private async fakeCreateUnitsIfAbsent(units: readonly Unit[]): Promise<boolean[]> {
    const call: FakeCall = { method: "createUnitsIfAbsent", units };
    this.record(call);
    if (new Set(units.map((u) => u.name)).size !== units.length) throw new Error("a unit is given twice");
    return this.createIfAbsent(call, units);
  }

  private async fakeCreateUnitIfAbsent(unit: Unit): Promise<boolean> {
    const call: FakeCall = { method: "createUnitIfAbsent", unit };
    this.record(call);
    return this.createIfAbsent(call, [unit])[0] === true;
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
    if (target === "inactive") {
      this.reported.delete(name);
      return;
    }
    const activeState = target === "launched" ? (this.activeStates[name] ?? "active") : "inactive";
    const subState = activeState === "active" ? "running" : activeState === "failed" ? "failed" : "dead";
    this.reported.set(name, { name, hash: view.unit.hash, machineId, loadState: "loaded", activeState, subState, currentState: target });
  }

  async getUnit(name: string): Promise<UnitView | undefined> {
    this.record({ method: "getUnit", name });
    this.advance(name);
    return this.units.get(name);
  }

  /** One read of the unit: a pending state change comes closer, or happens. */
  private advance(name: string): void {
    const pending = this.pending.get(name);
    if (pending && this.convergeAfterPolls !== "never") {
      if (pending.remaining <= 0) {
        this.pending.delete(name);
        this.reach(name, pending.target);
      } else {
        pending.remaining--;
      }
    }
  }

  async listUnits(): Promise<UnitView[]> {
    this.record({ method: "listUnits" });
    for (const name of [...this.units.keys()]) this.advance(name);
    return [...this.units.values()];
  }

  async createUnit(unit: Unit): Promise<void> {
    this.record({ method: "createUnit", unit });
    if (this.units.has(unit.name)) throw new Error(`unit ${unit.name} already exists`);
    this.addUnit(unit);
  }

  private addUnit(unit: Unit): void {
    this.units.set(unit.name, { unit, machineId: "", currentState: "inactive", reason: "" });
    if (unit.desiredState !== "inactive" && this.convergeAfterPolls !== "never") this.pending.set(unit.name, { target: unit.desiredState, remaining: this.convergeAfterPolls });
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
    this.reported.delete(name);
    return this.units.delete(name);
  }

  async listUnitStates(unitNames?: readonly string[]): Promise<UnitState[]> {
    this.record(unitNames === undefined ? { method: "listUnitStates" } : { method: "listUnitStates", unitNames });
    const all = [...this.states, ...this.reported.values()];
    return unitNames === undefined ? all : all.filter((s) => unitNames.includes(s.name));
  }

  async listMachines(): Promise<Machine[]> {
    this.record({ method: "listMachines" });
    return [...this.machines];
  }

  private async fakeUnitStatus(name: string): Promise<UnitStatus> {
    this.record({ method: "unitStatus", name });
    const view = this.units.get(name);
    return this.statuses[name] ?? { machineId: view?.machineId ?? "", text: `● ${name}\n`, exitCode: 0 };
  }

  private fakeJournal(name: string, options: JournalOptions, onData: (text: string) => void): JournalStream {
    let end: () => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      try {
        this.record({ method: "journal", name, options });
      } catch (err) {
        reject(err);
        return;
      }
      for (const chunk of this.journals[name] ?? []) onData(chunk);
      end = () => {
        this.followers.delete(name);
        resolve();
      };
      if (options.follow) this.followers.set(name, onData);
      else end();
    });
    return { done, cancel: () => end() };
  }

  /** Sends more journal text to whoever follows the unit's journal; false when nobody does. */
  push(name: string, text: string): boolean {
    const follower = this.followers.get(name);
    follower?.(text);
    return follower !== undefined;
  }

  close(): void {
    this.closed = true;
  }
}

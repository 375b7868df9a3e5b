// Best-effort machine lookups for legends ("113f16a7.../10.0.0.3"), as fleet's
// cachedMachineState: one ListMachines per invocation, refreshed once if an unknown machine
// shows up (it may have joined since). Failures are ignored: a legend then shows the id alone.
import type { Machine } from "@fleet/domain";
import type { FleetApi } from "./fleet-api.js";

export class MachineDirectory {
  private machines: Promise<Map<string, Machine>> | undefined;
  private refreshed = false;

  constructor(private readonly api: FleetApi) {}

  private load(previous?: Map<string, Machine>): Promise<Map<string, Machine>> {
    this.machines = this.api.listMachines().then(
      (list) => new Map(list.map((m) => [m.id, m])),
      () => previous ?? new Map<string, Machine>(),
    );
    return this.machines;
  }

  /** Starts reading the machines now, e.g. while waiting for units whose lines will need them. */
  prefetch(): void {
    this.machines ??= this.load();
  }

  async all(): Promise<ReadonlyMap<string, Machine>> {
    return this.machines ?? this.load();
  }

  async lookup(id: string): Promise<Machine | undefined> {
    const current = await (this.machines ?? this.load());
    const known = current.get(id);
    if (known || this.refreshed) return known;
    this.refreshed = true;
    return (await this.load(current)).get(id);
  }
}

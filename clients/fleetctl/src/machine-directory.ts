// Best-effort machine lookups for legends ("113f16a7.../10.0.0.3"), as fleet's
// cachedMachineState: one ListMachines per invocation, refreshed once if an unknown machine
// shows up (it may have joined since). Failures are ignored: a legend then shows the id alone.
import type { Machine } from "@fleet/domain";
import type { FleetApi } from "./fleet-api.js";

export class MachineDirectory {
  private machines: Map<string, Machine> | undefined;
  private refreshed = false;

  constructor(private readonly api: FleetApi) {}

  private async load(): Promise<Map<string, Machine>> {
    try {
      const list = await this.api.listMachines();
      this.machines = new Map(list.map((m) => [m.id, m]));
    } catch {
      this.machines ??= new Map();
    }
    return this.machines;
  }

  async all(): Promise<ReadonlyMap<string, Machine>> {
    return this.machines ?? (await this.load());
  }

  async lookup(id: string): Promise<Machine | undefined> {
    const known = (this.machines ?? (await this.load())).get(id);
    if (known || this.refreshed) return known;
    this.refreshed = true;
    return (await this.load()).get(id);
  }
}

// The bench's client of the api (FleetService over gRPC), as a user's tools would call it.
import { connect, unary, FleetServiceClient, TargetState, type Unit, type UnitState, type UnitView } from "@fleet/wire";

export const CREATE_BATCH = 1000;

/** The bench's unit `name`: a plain service, on every machine when `global`; the fake systemd runs nothing. Pure. */
export function benchUnit(name: string, global = false): Unit {
  return {
    name,
    options: [
      { section: "Unit", name: "Description", value: `fleet scale bench ${name}` },
      { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
      ...(global ? [{ section: "X-Fleet", name: "Global", value: "true" }] : []),
    ],
    hash: "",
    desiredState: TargetState.TARGET_STATE_LAUNCHED,
  };
}

export class FleetApi {
  private readonly client: FleetServiceClient;

  constructor(endpoint: string) {
    this.client = connect(FleetServiceClient, endpoint);
  }
  /** Creates the units (global ones: on every machine) in CreateUnits requests of CREATE_BATCH, one after another. */
  async createUnits(names: string[], global = false): Promise<void> {
    const c = this.client;
    for (let i = 0; i < names.length; i += CREATE_BATCH) {
      await unary(c.createUnits.bind(c), { units: names.slice(i, i + CREATE_BATCH).map((n) => benchUnit(n, global)) }, { deadlineMs: 60_000 });
    }
  }
  /** name -> machine id ("" while unplaced). */
  async placements(): Promise<Map<string, string>> {
    const c = this.client;
    const res = await unary(c.listUnits.bind(c), { offset: 0, limit: 0 }, { deadlineMs: 30_000 });
    return new Map(res.units.map((v) => [v.unit?.name ?? "", v.machineId]));
  }
  /** The states of the named units (every unit's when none are named). */
  async states(unitNames: string[] = []): Promise<UnitState[]> {
    const c = this.client;
    return (await unary(c.listUnitStates.bind(c), { unitNames, machineId: "" }, { deadlineMs: 30_000 })).states;
  }
  /** Follows the named units, every unit when none (WatchUnits: all of them first, then those that change) until cancelled;
   * `failed` hears of a stream that ended otherwise. */
  watchUnits(onViews: (views: UnitView[]) => void, failed: (err: Error) => void, names: string[] = []): { cancel(): void } {
    const call = this.client.watchUnits({ names });
    let cancelled = false;
    call.on("data", (msg: { units: UnitView[] }) => onViews(msg.units));
    call.on("error", (err: Error) => {
      if (!cancelled) failed(err);
    });
    call.on("end", () => {
      if (!cancelled) failed(new Error("WatchUnits ended"));
    });
    return {
      cancel() {
        cancelled = true;
        call.cancel();
      },
    };
  }
  async machineIds() {
    const c = this.client;
    const res = await unary(c.listMachines.bind(c), {}, { deadlineMs: 10_000 });
    return { ids: new Set(res.machines.map((m) => m.id)), engineStatus: res.engineStatus };
  }
  close(): void {
    this.client.close();
  }
}

// FleetApi over gRPC: the only fleetctl module that knows the wire. Every call has a deadline
// (--request-timeout); FleetErrors from @fleet/wire carry the server's message.
import type { Machine, TargetState, Unit, UnitState } from "@fleet/domain";
import {
  connect,
  isFleetError,
  fromServiceError,
  FleetServiceClient,
  machineFromWire,
  someNames,
  targetStateToWire,
  unary,
  unaryWrite,
  unitStateFromWire,
  unitToWire,
  unitViewFromWire,
  Metadata,
  type ClientReadableStream,
  type FleetServiceWatchUnitsResponse,
} from "@fleet/wire/fleet-client";
import type { FleetApi, JournalOptions, MachineHealth, JournalStream, UnitStatus, UnitView, UnitWatch } from "./fleet-api.js";

/** FleetService.CreateUnits takes at most this many units per request. */
const MAX_UNITS_PER_CREATE = 1000;

/**
 * Reads a server stream into onMessage: `done` resolves when it ends or is cancelled, and
 * rejects with the server's error otherwise.
 */
function follow<T>(call: ClientReadableStream<T>, onMessage: (message: T) => void): UnitWatch & JournalStream {
  let cancelled = false;
  const done = new Promise<void>((resolve, reject) => {
    call.on("data", onMessage);
    call.on("end", () => resolve());
    call.on("error", (err: unknown) => (cancelled ? resolve() : reject(fromServiceError(err))));
  });
  return {
    done,
    cancel() {
      cancelled = true;
      call.cancel();
    },
  };
}

/** A FleetApi talking to the api service at `address` (host:port or unix:///path), as `token` when given. */
export function grpcFleetApi(address: string, deadlineMs: number, token = ""): FleetApi {
  const client = connect(FleetServiceClient, address);
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const opts = { deadlineMs, headers };
  /** A write's options: what it does, in words, for "... may have been applied" (writeError). */
  const write = (what: string) => ({ deadlineMs, what, service: "the api", headers });
  /** The credentials of a stream. */
  const streamMetadata = (): Metadata => {
    const m = new Metadata();
    if (token) m.set("authorization", `Bearer ${token}`);
    return m;
  };
  return {
    async getUnit(name: string): Promise<UnitView | undefined> {
      try {
        const res = await unary(client.getUnit.bind(client), { name }, opts);
        return res.unit ? unitViewFromWire(res.unit) : undefined;
      } catch (err) {
        if (isFleetError(err, "not-found")) return undefined;
        throw err;
      }
    },
    async listUnits(): Promise<UnitView[]> {
      const res = await unary(client.listUnits.bind(client), { offset: 0, limit: 0 }, opts);
      return res.units.map(unitViewFromWire).filter((v): v is UnitView => v !== undefined);
    },
    async createUnit(unit: Unit): Promise<void> {
      await unaryWrite(client.createUnit.bind(client), { unit: unitToWire(unit) }, write(`creating unit ${unit.name}`));
    },
    async createUnitsIfAbsent(units: readonly Unit[]): Promise<boolean[]> {
      const created: boolean[] = [];
      for (let i = 0; i < units.length; i += MAX_UNITS_PER_CREATE) {
        const chunk = units.slice(i, i + MAX_UNITS_PER_CREATE);
        const what = `creating units ${someNames(chunk.map((u) => u.name))}`;
        const res = await unaryWrite(client.createUnits.bind(client), { units: chunk.map(unitToWire) }, write(what));
        created.push(...chunk.map((_, j) => res.created[j] === true));
      }
      return created;
    },
    async createUnitIfAbsent(unit: Unit): Promise<boolean> {
      try {
        await unaryWrite(client.createUnit.bind(client), { unit: unitToWire(unit) }, write(`creating unit ${unit.name}`));
        return true;
      } catch (err) {
        if (isFleetError(err, "already-exists")) return false;
        throw err;
      }
    },
    async replaceUnit(unit: Unit): Promise<void> {
      await unaryWrite(client.replaceUnit.bind(client), { unit: unitToWire(unit) }, write(`replacing unit ${unit.name}`));
    },
    async setUnitTargetState(name: string, state: TargetState): Promise<void> {
      const what = `setting the desired state of unit ${name} to ${state}`;
      await unaryWrite(client.setUnitTargetState.bind(client), { name, desiredState: targetStateToWire(state) }, write(what));
    },
    async destroyUnit(name: string): Promise<boolean> {
      try {
        await unaryWrite(client.destroyUnit.bind(client), { name }, write(`destroying unit ${name}`));
        return true;
      } catch (err) {
        if (isFleetError(err, "not-found")) return false;
        throw err;
      }
    },
    async listUnitStates(unitNames: readonly string[] = []): Promise<UnitState[]> {
      const res = await unary(client.listUnitStates.bind(client), { unitNames: [...unitNames], machineId: "" }, opts);
      return res.states.map(unitStateFromWire);
    },
    async listMachines(): Promise<Machine[]> {
      const res = await unary(client.listMachines.bind(client), {}, opts);
      return res.machines.map(machineFromWire);
    },
    async machineHealth(): Promise<MachineHealth> {
      const res = await unary(client.listMachines.bind(client), {}, opts);
      return { massLoss: res.engineStatus?.massLoss ?? "", heldMachines: (res.engineStatus?.heldMachines ?? []).map((h) => ({ machineId: h.machineId, reason: h.reason })) };
    },
    async unitStatus(name: string): Promise<UnitStatus> {
      const res = await unary(client.unitStatus.bind(client), { unitName: name }, opts);
      return { machineId: res.machineId, text: res.text, exitCode: res.exitCode };
    },
    watchUnits(names: readonly string[], onViews: (views: ReadonlyMap<string, UnitView | undefined>) => void): UnitWatch {
      return follow(client.watchUnits({ names: [...names] }, streamMetadata()), (msg: FleetServiceWatchUnitsResponse) => {
        const views = new Map<string, UnitView | undefined>(msg.missing.map((n) => [n, undefined]));
        for (const v of msg.units.map(unitViewFromWire)) if (v) views.set(v.unit.name, v);
        onViews(views);
      });
    },
    journal(name: string, options: JournalOptions, onData: (text: string) => void): JournalStream {
      const call = client.journal({ unitName: name, lines: options.lines, follow: options.follow, output: options.output }, streamMetadata());
      return follow(call, (chunk: { data: string }) => onData(chunk.data));
    },
    access: {
      async createToken(role, units, ttlSeconds) {
        const res = await unaryWrite(client.createToken.bind(client), { role, units: [...units], ttlSeconds }, write("creating a token"));
        if (!res.token) throw new Error("the api answered without the token");
        return { token: res.token, secret: res.secret };
      },
      async listTokens() {
        return (await unary(client.listTokens.bind(client), {}, opts)).tokens;
      },
      async revokeToken(token) {
        return (await unaryWrite(client.revokeToken.bind(client), { token }, write("revoking the token"))).id;
      },
      async listAudit(sinceMs, unit, limit) {
        return (await unary(client.listAudit.bind(client), { sinceMs, unit, limit }, opts)).entries;
      },
    },
    close(): void {
      client.close();
    },
  };
}

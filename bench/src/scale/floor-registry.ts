// A registry that costs nothing, for agents-floor.ts: the five RegistryService methods an agent
// calls (RegisterMachine, MachineHeartbeats, GetMachineSchedule, ReportUnitStates,
// UnregisterMachine; reports and schedule reads on the heartbeat stream too), answered at once from memory, with no etcd, engine, cache or hint
// routing behind them. It places units itself (least-loaded live machine, in order), publishes
// one hint per machine whose schedule changed, and declares a machine lost agent_ttl after the
// last heartbeat it heard (checked every 250 ms, as the gateway does), moving its units at once.
import * as grpc from "@grpc/grpc-js";
import { machineSubject, unitHash } from "@fleet/domain";
import {
  machineToWire,
  type HintBus,
  RegistryServiceService,
  type GetMachineScheduleRequest,
  type GetMachineScheduleResponse,
  type MachineHeartbeatsRequest,
  type MachineHeartbeatsResponse,
  type RegisterMachineRequest,
  type RegisterMachineResponse,
  type ReportUnitStatesRequest,
  type ReportUnitStatesResponse,
  type Unit,
  type UnregisterMachineRequest,
  type UnregisterMachineResponse,
} from "@fleet/wire";
import { benchUnit } from "./fleet-api.js";

const SWEEP_MS = 250;

interface FloorMachine {
  readonly id: string;
  leaseId: string;
  heardAt: number;
  live: boolean;
  /** When it was declared lost (performance.now), if it was. */
  lostAt: number | undefined;
  scheduleRevision: number;
  readonly units: Set<string>;
}

/** The refusal of a report under a lease the machine is not registered under, as the gateway words it. */
const notRegistered = (req: { machineId: string; leaseId: string }): string => `machine ${req.machineId} is not registered under lease ${req.leaseId}`;

/** A bench unit (launched) with its hash, as the gateway hands it to agents. Pure. */
export function floorUnit(name: string): Unit {
  const u = benchUnit(name);
  return { ...u, hash: unitHash(u.options) };
}

export class FloorRegistry {
  readonly machines = new Map<string, FloorMachine>();
  private readonly units = new Map<string, { unit: Unit; machineId: string }>();
  /** Units reported active, with the machine that reported them. */
  private readonly activeOn = new Map<string, string>();
  private revision = 1;
  private leases = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  registrations = 0;
  /** Calls answered, by method (heartbeats: stream messages). */
  readonly calls = { RegisterMachine: 0, MachineHeartbeats: 0, GetMachineSchedule: 0, ReportUnitStates: 0 };

  constructor(
    private readonly hints: Pick<HintBus, "publish">,
    private readonly ttlMs: number,
    /** Milliseconds of a monotonic clock (default performance.now). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Serves RegistryService on a loopback port; resolves with it. */
  async serve(server: grpc.Server): Promise<number> {
    server.addService(RegistryServiceService, {
      registerMachine: (call: grpc.ServerUnaryCall<RegisterMachineRequest, RegisterMachineResponse>, done: grpc.sendUnaryData<RegisterMachineResponse>) => done(null, this.register(call.request)),
      unregisterMachine: (call: grpc.ServerUnaryCall<UnregisterMachineRequest, UnregisterMachineResponse>, done: grpc.sendUnaryData<UnregisterMachineResponse>) =>
        done(null, { revision: this.revision, unregistered: this.machines.get(call.request.machineId)?.leaseId === call.request.leaseId }),
      machineHeartbeats: (call: grpc.ServerDuplexStream<MachineHeartbeatsRequest, MachineHeartbeatsResponse>) => {
        call.on("data", (req: MachineHeartbeatsRequest) => call.write(this.heartbeat(req)));
        call.on("end", () => call.end());
        call.on("error", () => undefined);
      },
      getMachineSchedule: (call: grpc.ServerUnaryCall<GetMachineScheduleRequest, GetMachineScheduleResponse>, done: grpc.sendUnaryData<GetMachineScheduleResponse>) =>
        done(null, this.schedule(call.request.machineId)),
      reportUnitStates: (call: grpc.ServerUnaryCall<ReportUnitStatesRequest, ReportUnitStatesResponse>, done: grpc.sendUnaryData<ReportUnitStatesResponse>) => {
        if (!this.report(call.request)) return done({ code: grpc.status.FAILED_PRECONDITION, details: notRegistered(call.request) });
        done(null, { revision: this.revision });
      },
    } as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    return port;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get liveMachines(): number {
    let n = 0;
    for (const m of this.machines.values()) if (m.live) n++;
    return n;
  }

  /** Places the units, each on the live machine holding the fewest, and hints those machines. */
  place(names: readonly string[]): void {
    const live = [...this.machines.values()].filter((m) => m.live).sort((a, b) => a.units.size - b.units.size);
    if (live.length === 0) throw new Error("no live machine to place units on");
    const changed = new Set<FloorMachine>();
    names.forEach((name, i) => {
      const m = live[i % live.length]!;
      const held = this.units.get(name);
      if (held) this.machines.get(held.machineId)?.units.delete(name);
      this.units.set(name, { unit: held?.unit ?? floorUnit(name), machineId: m.id });
      m.units.add(name);
      changed.add(m);
    });
    this.revision++;
    for (const m of changed) {
      m.scheduleRevision = this.revision;
      this.hints.publish(machineSubject(m.id), { revision: this.revision, what: `schedule ${names.length} units` });
    }
  }

  /** How many of these units their current machine reported active. */
  activeCount(names: readonly string[]): number {
    let n = 0;
    for (const name of names) {
      const on = this.units.get(name)?.machineId;
      if (on !== undefined && this.activeOn.get(name) === on) n++;
    }
    return n;
  }

  /** The units placed on these machines now. */
  unitsOn(ids: readonly string[]): string[] {
    return ids.flatMap((id) => [...(this.machines.get(id)?.units ?? [])]);
  }

  register(req: RegisterMachineRequest): RegisterMachineResponse {
    const id = req.machine?.id ?? "";
    const leaseId = String(++this.leases);
    const m = this.machines.get(id);
    if (m) {
      m.leaseId = leaseId;
      m.heardAt = this.now();
      m.live = true;
    } else this.machines.set(id, { id, leaseId, heardAt: this.now(), live: true, lostAt: undefined, scheduleRevision: this.revision, units: new Set() });
    this.registrations++;
    this.calls.RegisterMachine++;
    return { leaseId, revision: this.revision };
  }

  /** A heartbeat, or a state report or schedule read on the heartbeat stream (taken there, as the gateway does). */
  heartbeat(req: MachineHeartbeatsRequest): MachineHeartbeatsResponse {
    const answer = { seq: req.seq, alive: true, errorKind: "", errorMessage: "", scheduleRevision: 0, acceptsReports: true, acceptsScheduleReads: true };
    if (req.report) {
      if (this.report({ machineId: req.machineId, leaseId: req.leaseId, ...req.report })) return answer;
      return { ...answer, alive: false, errorKind: "failed-precondition", errorMessage: notRegistered(req) };
    }
    if (req.scheduleRead) return { ...answer, schedule: this.schedule(req.machineId) };
    this.calls.MachineHeartbeats++;
    const m = this.machines.get(req.machineId);
    const alive = m !== undefined && m.live && m.leaseId === req.leaseId;
    if (alive) m.heardAt = this.now();
    return { ...answer, alive, scheduleRevision: alive ? m.scheduleRevision : 0 };
  }

  schedule(machineId: string): GetMachineScheduleResponse {
    this.calls.GetMachineSchedule++;
    const m = this.machines.get(machineId);
    const units = [...(m?.units ?? [])].map((name) => this.units.get(name)!.unit);
    return { units, machines: [machineToWire({ id: machineId, publicIp: "127.0.0.1", metadata: {} })], revision: this.revision };
  }

  /** Records the machine's states; false (nothing recorded) when it is not live under that lease. */
  report(req: ReportUnitStatesRequest): boolean {
    this.calls.ReportUnitStates++;
    const m = this.machines.get(req.machineId);
    if (!m?.live || m.leaseId !== req.leaseId) return false;
    for (const s of req.states) {
      if (s.activeState === "active") this.activeOn.set(s.name, req.machineId);
      else if (this.activeOn.get(s.name) === req.machineId) this.activeOn.delete(s.name);
    }
    for (const name of req.removed) if (this.activeOn.get(name) === req.machineId) this.activeOn.delete(name);
    return true;
  }

  /** Machines silent for agent_ttl are lost: their units move at once. */
  sweep(): void {
    const now = this.now();
    const moving: string[] = [];
    for (const m of this.machines.values()) {
      if (!m.live || now - m.heardAt < this.ttlMs) continue;
      m.live = false;
      m.lostAt = now;
      moving.push(...m.units);
    }
    if (moving.length > 0 && this.liveMachines > 0) this.place(moving);
  }
}

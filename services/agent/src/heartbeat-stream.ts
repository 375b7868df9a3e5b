// The agent's heartbeats over one long-lived MachineHeartbeats stream to its gateway: each
// heartbeat is one message, answered by the response carrying its seq. A gateway answers a
// stream's heartbeats in order at a fraction of what a call costs it (no HTTP/2 stream,
// headers or trailers per heartbeat), which is what lets one gateway hold thousands of machines.
// Its state reports and schedule reads go the same way once the gateway's answers say it takes
// them (an older gateway would take either for a heartbeat): GatewayRegistry asks
// acceptsReports and acceptsScheduleReads.
//
//   beat() / report() / readSchedule() ──▶ no stream? open one
//        ──▶ write {seq, machineId, leaseId[, report | schedule_read]}
//   response {seq} ──▶ that message resolves (alive) or rejects (error_kind: a FleetError)
//   no response within deadlineMs ──▶ that message rejects (deadline-exceeded); the stream stays
//   stream error or end ──▶ every waiting message rejects (unavailable); the next one opens a new
//        stream, which the channel sends to whichever gateway it is connected to (failover), and
//        reports and reads go by call again until that gateway's first answer says it takes them
import { FleetError, type FleetErrorKind } from "@fleet/domain";
import { unitStateToWire, type GetMachineScheduleResponse, type MachineHeartbeatsRequest, type MachineHeartbeatsResponse } from "@fleet/wire";
import type { UnitState } from "@fleet/domain";

/** The part of grpc-js's ClientDuplexStream this uses. */
export interface HeartbeatDuplex {
  write(request: MachineHeartbeatsRequest): unknown;
  on(event: "data", fn: (res: MachineHeartbeatsResponse) => void): unknown;
  on(event: "error", fn: (err: Error) => void): unknown;
  on(event: "end", fn: () => void): unknown;
  cancel(): void;
}

/** A heartbeat's answer: whether the lease lives, and when the machine's schedule last changed (0: unknown). */
export interface HeartbeatAnswer {
  readonly alive: boolean;
  readonly scheduleRevision: number;
}

interface Waiting {
  readonly resolve: (res: MachineHeartbeatsResponse) => void;
  readonly reject: (err: FleetError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

const KINDS: ReadonlySet<string> = new Set<FleetErrorKind>(["invalid-argument", "not-found", "already-exists", "failed-precondition", "aborted", "unavailable", "deadline-exceeded", "resource-exhausted", "unauthenticated", "permission-denied", "internal"]);

export class HeartbeatStream {
  private stream: HeartbeatDuplex | undefined;
  /** What the open stream's gateway said it takes, in its last answer. */
  private takes = { reports: false, scheduleReads: false };
  private readonly waiting = new Map<number, Waiting>();
  private seq = 0;
  /** Streams opened so far (for tests). */
  opened = 0;

  constructor(private readonly open: () => HeartbeatDuplex) {}

  /** Whether the gateway of the open stream said it takes state reports (its last answer). */
  get acceptsReports(): boolean {
    return this.stream !== undefined && this.takes.reports;
  }

  /** Whether the gateway of the open stream said it answers schedule reads (its last answer). */
  get acceptsScheduleReads(): boolean {
    return this.stream !== undefined && this.takes.scheduleReads;
  }

  /** One heartbeat: alive while the lease lives, not when it is gone; fails like the unary call. */
  async beat(machineId: string, leaseId: string, deadlineMs: number): Promise<HeartbeatAnswer> {
    const res = await this.send({ machineId, leaseId }, deadlineMs, "heartbeat");
    return { alive: res.alive, scheduleRevision: res.scheduleRevision };
  }

  /** The machine's unit states, written by the gateway as ReportUnitStates would; fails like that call. */
  async report(machineId: string, leaseId: string, states: readonly UnitState[], removed: readonly string[], deadlineMs: number): Promise<void> {
    await this.send({ machineId, leaseId, report: { states: states.map(unitStateToWire), removed: [...removed] } }, deadlineMs, "state report");
  }

  /** The machine's schedule, answered as GetMachineSchedule would; fails like that call. */
  async readSchedule(machineId: string, minRevision: number, deadlineMs: number): Promise<GetMachineScheduleResponse> {
    const res = await this.send({ machineId, leaseId: "", scheduleRead: { minRevision } }, deadlineMs, "schedule read");
    if (!res.schedule) throw new FleetError("internal", "schedule read: the registry-gateway answered without a schedule");
    return res.schedule;
  }

  private send(req: Omit<MachineHeartbeatsRequest, "seq">, deadlineMs: number, what: string): Promise<MachineHeartbeatsResponse> {
    const stream = (this.stream ??= this.connect());
    const seq = ++this.seq;
    return new Promise<MachineHeartbeatsResponse>((resolve, reject) => {
      // The deadline is judged after the I/O already received: when the agent's own event loop
      // was blocked past the deadline (starting hundreds of units, a starved core), the timer
      // runs before the answer waiting in the socket is read, and the agent would blame the
      // gateway for its own lateness. setImmediate runs after that read (libuv's check phase).
      const timer = setTimeout(() => {
        setImmediate(() => {
          if (!this.waiting.has(seq)) return;
          this.waiting.delete(seq);
          reject(new FleetError("deadline-exceeded", `${what}: no answer from the registry-gateway within ${deadlineMs} ms`));
        });
      }, deadlineMs);
      this.waiting.set(seq, { resolve, reject, timer });
      try {
        stream.write({ ...req, seq });
      } catch (err) {
        this.broken(stream, err instanceof Error ? err.message : String(err));
      }
    });
  }

  /** Ends the stream; waiting messages fail. */
  close(): void {
    const stream = this.stream;
    if (!stream) return;
    this.broken(stream, "the agent closed its heartbeat stream");
    try {
      stream.cancel();
    } catch {
      // already gone
    }
  }

  private connect(): HeartbeatDuplex {
    const stream = this.open();
    this.opened++;
    stream.on("data", (res) => this.answer(res));
    stream.on("error", (err) => this.broken(stream, err.message));
    stream.on("end", () => this.broken(stream, "the registry-gateway ended the heartbeat stream"));
    return stream;
  }

  private answer(res: MachineHeartbeatsResponse): void {
    this.takes = { reports: res.acceptsReports, scheduleReads: res.acceptsScheduleReads };
    const w = this.waiting.get(res.seq);
    if (!w) return;
    this.waiting.delete(res.seq);
    clearTimeout(w.timer);
    if (res.errorKind === "") w.resolve(res);
    else w.reject(new FleetError(KINDS.has(res.errorKind) ? (res.errorKind as FleetErrorKind) : "internal", res.errorMessage));
  }

  private broken(stream: HeartbeatDuplex, why: string): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    this.takes = { reports: false, scheduleReads: false };
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) {
      clearTimeout(w.timer);
      w.reject(new FleetError("unavailable", `heartbeat stream to the registry-gateway broke: ${why}`));
    }
  }
}

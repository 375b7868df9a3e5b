// MachineHeartbeats: an agent's heartbeats over one long-lived stream. Each request is handled
// as MachineHeartbeat would be and answered with its seq and the revision at which the machine's
// schedule last changed (schedule-revisions.ts); a failure is answered too (error_kind), so the
// stream outlives one heartbeat that could not reach etcd. Two other requests share the stream,
// each answered by seq the same way, for a fraction of what a call costs the gateway and the
// agent: a report (the machine's unit states, written as ReportUnitStates writes them, in the
// order the stream brings them) and a schedule read (answered as GetMachineSchedule answers).
// Every answer says the gateway takes both on the stream.
import { FleetError } from "@fleet/domain";
import {
  Counter,
  type GetMachineScheduleRequest,
  type GetMachineScheduleResponse,
  type Logger,
  type MachineHeartbeatsRequest,
  type MachineHeartbeatsResponse,
  type ReportUnitStatesRequest,
  type ServerDuplexStream,
} from "@fleet/wire";
import type { Registry } from "./registry.js";

export const streamRequests = new Counter({
  name: "fleet_gateway_stream_requests_total",
  help: "State reports and schedule reads agents sent on their heartbeat stream, by kind (report, schedule) and outcome (ok, or the error kind)",
  labelNames: ["kind", "outcome"] as const,
});

/** What serves the stream's requests besides heartbeats (registry-service.ts: as the calls do). */
export interface StreamServices {
  /** When the machine's schedule last changed, as far as this gateway knows (heartbeat answers). */
  scheduleRevision(machineId: string): number;
  /** Writes a state report as ReportUnitStates does; queues its write before it returns. */
  report(req: ReportUnitStatesRequest): Promise<number>;
  /** The machine's schedule, as GetMachineSchedule answers it. */
  schedule(req: GetMachineScheduleRequest): Promise<GetMachineScheduleResponse>;
}

const failed = (err: unknown): FleetError => (err instanceof FleetError ? err : new FleetError("internal", err instanceof Error ? err.message : String(err)));

/** `fn()`'s promise; a synchronous throw becomes its rejection. */
function attempt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

export function heartbeatStreamHandler(registry: Registry, log: Logger, services: StreamServices): (call: ServerDuplexStream<MachineHeartbeatsRequest, MachineHeartbeatsResponse>) => void {
  return (call) => {
    let open = true;
    /** Machines heard on this stream: the first heartbeat of each claims it (heartbeat-watch.ts). */
    const heard = new Set<string>();
    const answer = (req: MachineHeartbeatsRequest, what: string, fields: Partial<MachineHeartbeatsResponse>, err?: unknown) => {
      const e = err === undefined ? undefined : failed(err);
      if (e?.kind === "internal") log.error({ machineId: req.machineId, err: e.message }, `${what} failed`);
      if (open && !call.cancelled) {
        call.write({ seq: req.seq, alive: false, errorKind: e?.kind ?? "", errorMessage: e?.message ?? "", scheduleRevision: 0, acceptsReports: true, acceptsScheduleReads: true, ...fields });
      }
    };
    /** A report or a schedule read: served as its call is, counted, and answered by seq. */
    const serve = <T>(req: MachineHeartbeatsRequest, kind: "report" | "schedule", what: string, run: () => Promise<T>, fields: (result: T) => Partial<MachineHeartbeatsResponse>) =>
      attempt(run).then(
        (result) => (streamRequests.inc({ kind, outcome: "ok" }), answer(req, what, { alive: true, ...fields(result) })),
        (err: unknown) => (streamRequests.inc({ kind, outcome: failed(err).kind }), answer(req, what, {}, err)),
      );
    call.on("data", (req: MachineHeartbeatsRequest) => {
      if (req.report) {
        const { states, removed } = req.report;
        // report() queues its write before it returns: one machine's reports keep their order.
        void serve(req, "report", "state report", () => services.report({ machineId: req.machineId, leaseId: req.leaseId, states, removed }), () => ({}));
        return;
      }
      if (req.scheduleRead) {
        const minRevision = req.scheduleRead.minRevision;
        void serve(req, "schedule", "schedule read", () => services.schedule({ machineId: req.machineId, minRevision }), (schedule) => ({ schedule }));
        return;
      }
      const key = `${req.machineId}/${req.leaseId}`;
      const via = heard.has(key) ? "stream" : "stream-first";
      heard.add(key);
      registry.machines.heartbeat(req.machineId, req.leaseId, via).then(
        (alive) => answer(req, "heartbeat", { alive, scheduleRevision: alive ? services.scheduleRevision(req.machineId) : 0 }),
        (err: unknown) => answer(req, "heartbeat", {}, err),
      );
    });
    call.on("end", () => {
      open = false;
      call.end();
    });
    call.on("error", () => {
      open = false;
    });
    call.on("cancelled", () => {
      open = false;
    });
  };
}

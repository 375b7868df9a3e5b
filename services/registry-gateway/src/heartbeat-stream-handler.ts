// MachineHeartbeats: an agent's heartbeats over one long-lived stream. Each request is handled
// as MachineHeartbeat would be and answered with its seq and the revision at which the machine's
// schedule last changed (schedule-revisions.ts); a failure is answered too (error_kind), so the
// stream outlives one heartbeat that could not reach etcd. A request with a report is the
// machine's unit states instead, written as ReportUnitStates writes them (in the order the
// stream brings them) and answered by seq the same way: a message costs the gateway and the agent
// a fraction of a call. Every answer says the gateway accepts reports on the stream.
import { FleetError } from "@fleet/domain";
import { Counter, type Logger, type MachineHeartbeatsRequest, type MachineHeartbeatsResponse, type ReportUnitStatesRequest, type ServerDuplexStream } from "@fleet/wire";
import type { Registry } from "./registry.js";

export const streamReports = new Counter({
  name: "fleet_gateway_stream_reports_total",
  help: "State reports agents sent on their heartbeat stream, by outcome (written, or the error kind)",
  labelNames: ["outcome"] as const,
});

const failed = (err: unknown): FleetError => (err instanceof FleetError ? err : new FleetError("internal", err instanceof Error ? err.message : String(err)));

/** Writes a machine's state report as ReportUnitStates does; queues its write before it returns. */
export type ReportStates = (req: ReportUnitStatesRequest) => Promise<number>;

export function heartbeatStreamHandler(
  registry: Registry,
  log: Logger,
  scheduleRevision: (machineId: string) => number,
  report: ReportStates,
): (call: ServerDuplexStream<MachineHeartbeatsRequest, MachineHeartbeatsResponse>) => void {
  return (call) => {
    let open = true;
    /** Machines heard on this stream: the first heartbeat of each claims it (heartbeat-watch.ts). */
    const heard = new Set<string>();
    const send = (res: MachineHeartbeatsResponse) => {
      if (open && !call.cancelled) call.write(res);
    };
    call.on("data", (req: MachineHeartbeatsRequest) => {
      if (req.report) {
        const answer = (e: FleetError | undefined) => {
          streamReports.inc({ outcome: e ? e.kind : "written" });
          if (e?.kind === "internal") log.error({ machineId: req.machineId, err: e.message }, "state report failed");
          send({ seq: req.seq, alive: e === undefined, errorKind: e?.kind ?? "", errorMessage: e?.message ?? "", scheduleRevision: 0, acceptsReports: true });
        };
        // report() queues its write before it returns: one machine's reports keep their order.
        let written: Promise<number>;
        try {
          written = report({ machineId: req.machineId, leaseId: req.leaseId, states: req.report.states, removed: req.report.removed });
        } catch (err) {
          answer(failed(err));
          return;
        }
        written.then(
          () => answer(undefined),
          (err: unknown) => answer(failed(err)),
        );
        return;
      }
      const key = `${req.machineId}/${req.leaseId}`;
      const via = heard.has(key) ? "stream" : "stream-first";
      heard.add(key);
      registry.machines.heartbeat(req.machineId, req.leaseId, via).then(
        (alive) => send({ seq: req.seq, alive, errorKind: "", errorMessage: "", scheduleRevision: alive ? scheduleRevision(req.machineId) : 0, acceptsReports: true }),
        (err: unknown) => {
          const e = failed(err);
          if (e.kind === "internal") log.error({ machineId: req.machineId, err: e.message }, "heartbeat failed");
          send({ seq: req.seq, alive: false, errorKind: e.kind, errorMessage: e.message, scheduleRevision: 0, acceptsReports: true });
        },
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

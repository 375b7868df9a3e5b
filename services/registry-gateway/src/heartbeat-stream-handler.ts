// MachineHeartbeats: an agent's heartbeats over one long-lived stream. Each request is handled
// as MachineHeartbeat would be and answered with its seq and the revision at which the machine's
// schedule last changed (schedule-revisions.ts); a failure is answered too (error_kind), so the
// stream outlives one heartbeat that could not reach etcd.
import { FleetError } from "@fleet/domain";
import type { Logger, MachineHeartbeatsRequest, MachineHeartbeatsResponse, ServerDuplexStream } from "@fleet/wire";
import type { Registry } from "./registry.js";

export function heartbeatStreamHandler(
  registry: Registry,
  log: Logger,
  scheduleRevision: (machineId: string) => number,
): (call: ServerDuplexStream<MachineHeartbeatsRequest, MachineHeartbeatsResponse>) => void {
  return (call) => {
    let open = true;
    /** Machines heard on this stream: the first heartbeat of each claims it (heartbeat-watch.ts). */
    const heard = new Set<string>();
    const send = (res: MachineHeartbeatsResponse) => {
      if (open && !call.cancelled) call.write(res);
    };
    call.on("data", (req: MachineHeartbeatsRequest) => {
      const key = `${req.machineId}/${req.leaseId}`;
      const via = heard.has(key) ? "stream" : "stream-first";
      heard.add(key);
      registry.machines.heartbeat(req.machineId, req.leaseId, via).then(
        (alive) => send({ seq: req.seq, alive, errorKind: "", errorMessage: "", scheduleRevision: alive ? scheduleRevision(req.machineId) : 0 }),
        (err: unknown) => {
          const e = err instanceof FleetError ? err : new FleetError("internal", err instanceof Error ? err.message : String(err));
          if (e.kind === "internal") log.error({ machineId: req.machineId, err: e.message }, "heartbeat failed");
          send({ seq: req.seq, alive: false, errorKind: e.kind, errorMessage: e.message, scheduleRevision: 0 });
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

import { describe, expect, it } from "vitest";
import { connect, unary } from "./client.js";
import { FleetServiceClient, FleetServiceService } from "./gen/fleet/v1/fleet.pb.js";
import { createLogger } from "./logger.js";
import { currentRequestId, PendingRequests, withRequestId } from "./request-scope.js";
import { serve, shutdown, unaryHandler } from "./server.js";

describe("a request's scope", () => {
  it("carries the request id from a call to the calls its handler makes, and into every log line written meanwhile", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger("test", "info", { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const seenDownstream: string[] = [];
    const downstream = await serve("127.0.0.1:0", [
      [FleetServiceService, { getUnit: unaryHandler(log, "GetUnit", async (_req, ctx) => (seenDownstream.push(ctx.requestId), { unit: undefined })) }],
    ]);
    const down = connect(FleetServiceClient, `127.0.0.1:${downstream.port}`);
    const upstream = await serve("127.0.0.1:0", [
      [
        FleetServiceService,
        {
          getUnit: unaryHandler(log, "GetUnit", async (req: { name: string }, ctx) => {
            ctx.log.info({ unit: req.name }, "asking downstream");
            // No request id given: the call carries the one of the request being served.
            return unary(down.getUnit.bind(down), { name: req.name });
          }),
        },
      ],
    ]);
    const up = connect(FleetServiceClient, `127.0.0.1:${upstream.port}`);
    try {
      await unary(up.getUnit.bind(up), { name: "a.service" }, { requestId: "req-abc.1" });
      expect(seenDownstream).toEqual(["req-abc.1"]);
      expect(lines.find((l) => l.msg === "asking downstream")).toMatchObject({ requestId: "req-abc.1", unit: "a.service", method: "GetUnit" });
      // A header that is not a request id is replaced by a fresh one.
      await unary(up.getUnit.bind(up), { name: "b.service" }, { requestId: "bad id with spaces" });
      expect(seenDownstream[1]).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      up.close();
      down.close();
      await Promise.all([shutdown(upstream.server), shutdown(downstream.server)]);
    }
  });

  it("is the request's inside withRequestId, across awaits, and nobody's outside", async () => {
    expect(currentRequestId()).toBeUndefined();
    const seen = await withRequestId("r-1", async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentRequestId();
    });
    expect(seen).toBe("r-1");
    expect(withRequestId(undefined, () => currentRequestId())).toBeUndefined();
  });

  it("PendingRequests gathers the ids that woke a loop, once each, bounded, until the next pass takes them", () => {
    const p = new PendingRequests(2);
    for (const id of ["a", "b", "a", undefined, "not an id!", "c"]) p.add(id);
    expect(p.take()).toEqual(["b", "c"]);
    expect(p.take()).toEqual([]);
  });
});

import { Metadata, status, type ServerUnaryCall } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { unaryHandler } from "./server.js";

function call(deadline: Date | number, cancelled = false): ServerUnaryCall<{ n: number }, { n: number }> {
  return { request: { n: 1 }, metadata: new Metadata(), cancelled, getDeadline: () => deadline } as unknown as ServerUnaryCall<{ n: number }, { n: number }>;
}

function answer(c: ServerUnaryCall<{ n: number }, { n: number }>, ran: number[]): Promise<{ code?: number; value?: { n: number } }> {
  const handler = unaryHandler(createLogger("test", "silent"), "Echo", async (req: { n: number }) => {
    ran.push(req.n);
    return { n: req.n + 1 };
  });
  return new Promise((resolve) => {
    handler(c, (err, value) => resolve(err ? { code: (err as { code?: number }).code } : { value: value ?? undefined }));
  });
}

describe("unaryHandler", () => {
  it("serves a call within its deadline, and one without a deadline", async () => {
    const ran: number[] = [];
    expect(await answer(call(new Date(Date.now() + 5_000)), ran)).toEqual({ value: { n: 2 } });
    expect(await answer(call(Infinity), ran)).toEqual({ value: { n: 2 } });
    expect(ran).toEqual([1, 1]);
  });

  it("does not do the work of a call whose caller's deadline passed while it waited, or that was cancelled", async () => {
    const ran: number[] = [];
    expect(await answer(call(new Date(Date.now() - 1)), ran)).toEqual({ code: status.DEADLINE_EXCEEDED });
    expect(await answer(call(Infinity, true), ran)).toEqual({ code: status.DEADLINE_EXCEEDED });
    expect(ran).toEqual([]);
  });
});

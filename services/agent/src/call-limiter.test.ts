import { describe, expect, it } from "vitest";
import { turn } from "@fleet/domain/fixtures";
import { CallLimiter } from "./call-limiter.js";

describe("CallLimiter", () => {
  it("never has more than its limit in flight, and runs every call, in order", async () => {
    const limiter = new CallLimiter(3);
    let peak = 0;
    const started: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.run(async () => {
          started.push(i);
          peak = Math.max(peak, limiter.inFlight);
          // Calls end out of order: each after 1 to 3 turns of the event loop.
          for (let t = 0; t <= i % 3; t++) await turn();
          return i * 2;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(limiter.inFlight).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it("a failed call frees its slot and fails only its caller", async () => {
    const limiter = new CallLimiter(1);
    const a = limiter.run(() => Promise.reject(new Error("no such unit")));
    const b = limiter.run(async () => "ok");
    await expect(a).rejects.toThrow("no such unit");
    await expect(b).resolves.toBe("ok");
    expect(limiter.inFlight).toBe(0);
  });
});

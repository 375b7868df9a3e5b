import { describe, expect, it } from "vitest";
import { FakeClock } from "@fleet/domain/fixtures";
import { HeartbeatLoop, nextHeartbeatDelayMs } from "./heartbeat-loop.js";

describe("nextHeartbeatDelayMs (agent_ttl 5 s)", () => {
  it.each([
    { name: "after a success: agent_ttl/3 at the latest", failures: 0, random: 0.999, want: [1666, 1667] },
    { name: "after a success: at most 10% earlier", failures: 0, random: 0, want: [1500, 1500] },
    { name: "first retry: about 250 ms", failures: 1, random: 0, want: [125, 125] },
    { name: "first retry, other end of the jitter", failures: 1, random: 0.999, want: [249, 250] },
    { name: "second retry doubles", failures: 2, random: 0.999, want: [499, 500] },
    { name: "capped at agent_ttl/6", failures: 5, random: 0.999, want: [832, 834] },
    { name: "still capped after an hour of failures", failures: 4000, random: 0.5, want: [625, 625] },
  ])("$name", ({ failures, random, want }) => {
    const d = nextHeartbeatDelayMs(5000, failures, random);
    expect(d).toBeGreaterThanOrEqual(want[0]!);
    expect(d).toBeLessThanOrEqual(want[1]!);
  });

  it("after one failed heartbeat, the retries fit several times into what is left of the lease", () => {
    // The last success renewed the lease at 0; the next heartbeat, at ttl/3, fails.
    const ttl = 5000;
    let t = ttl / 3;
    let tries = 0;
    for (let failures = 1; t < ttl; failures++) {
      t += nextHeartbeatDelayMs(ttl, failures, 1);
      tries++;
    }
    expect(tries).toBeGreaterThanOrEqual(6);
  });
});

describe("HeartbeatLoop", () => {
  it("beats at once, then every ttl/3; after failures retries with backoff and never registers by itself", async () => {
    const c = new FakeClock();
    const outcomes = [true, false, false, true, true];
    const at: number[] = [];
    const loop = new HeartbeatLoop({
      ttlMs: 6000,
      clock: c,
      now: () => c.now(),
      random: () => 0.999999,
      beat: async () => {
        at.push(Math.round(c.now()));
        if (!outcomes.shift()) throw new Error("UNAVAILABLE");
      },
      onError: () => {},
    });
    loop.start();
    for (let i = 0; i < 5; i++) {
      await Promise.resolve();
      await c.next();
    }
    // 0 ok -> +2000 fails -> +250 fails -> +500 ok -> +2000
    expect(at).toEqual([0, 2000, 2250, 2750, 4750, 6750]);
    await loop.stop();
  });

  it("counts the interval from when a heartbeat was sent: a slow answer does not push the next one later", async () => {
    const c = new FakeClock();
    const sent: number[] = [];
    const answered: number[] = [];
    const slowMs = [1500, 2500, 0];
    const loop = new HeartbeatLoop({
      ttlMs: 6000,
      clock: c,
      now: () => c.now(),
      random: () => 0.999999,
      beat: () =>
        new Promise<void>((resolve) => {
          sent.push(Math.round(c.now()));
          c.setTimeout(() => {
            answered.push(Math.round(c.now()));
            resolve();
          }, slowMs.shift() ?? 0);
        }),
      onError: () => {},
    });
    loop.start();
    for (let i = 0; i < 6; i++) {
      await Promise.resolve();
      await c.next();
    }
    // Sent at 0, answered at 1500: next at 2000 (not 3500). Sent at 2000, answered at 4500 (after
    // its interval): the next goes at once.
    expect(sent).toEqual([0, 2000, 4500, 6500]);
    expect(answered.slice(0, 3)).toEqual([1500, 4500, 4500]);
    await c.next(); // the last answer, so that stop() finds nothing in flight
    await loop.stop();
  });
});

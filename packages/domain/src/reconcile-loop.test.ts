import { describe, expect, it } from "vitest";
import { FakeClock } from "./fake-clock.js";
import { ReconcileLoop } from "./reconcile-loop.js";

const tick = () => new Promise((r) => setImmediate(r));

describe("ReconcileLoop", () => {
  it("runs at start, on hints and on the timer", async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const loop = new ReconcileLoop({ intervalMs: 1000, clock, onError: () => {}, pass: async (t) => void seen.push(t) });
    loop.start();
    await tick();
    loop.trigger("hint");
    await tick();
    clock.fireAll();
    await tick();
    expect(seen).toEqual(["start", "hint", "interval"]);
    await loop.stop();
  });

  it("coalesces hints that arrive during a pass into one more pass", async () => {
    const seen: string[] = [];
    let release: () => void = () => {};
    const loop = new ReconcileLoop({
      intervalMs: 1000,
      clock: new FakeClock(),
      onError: () => {},
      pass: async (t) => {
        seen.push(t);
        if (t === "start") await new Promise<void>((r) => (release = r));
      },
    });
    loop.start();
    loop.trigger("h1");
    loop.trigger("h2");
    loop.trigger("h3");
    release();
    await tick();
    await tick();
    expect(seen).toEqual(["start", "h1"]);
    await loop.stop();
  });

  it("keeps going after a failed pass", async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    let n = 0;
    const loop = new ReconcileLoop({
      intervalMs: 1000,
      clock,
      onError: (e) => errors.push(e),
      pass: async () => {
        n++;
        if (n === 1) throw new Error("boom");
      },
    });
    loop.start();
    await tick();
    clock.fireAll();
    await tick();
    expect(n).toBe(2);
    expect(errors).toHaveLength(1);
    await loop.stop();
  });
});

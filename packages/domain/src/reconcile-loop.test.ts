import { describe, expect, it } from "vitest";
import { FakeClock } from "./fake-clock.js";
import { ReconcileLoop } from "./reconcile-loop.js";

const tick = () => new Promise((r) => setImmediate(r));

/** A loop on a fake clock whose passes record their trigger; the pass for `blockOn` waits for release(). */
function recordingLoop(blockOn?: string) {
  const clock = new FakeClock();
  const seen: string[] = [];
  let unblock: () => void = () => {};
  const loop = new ReconcileLoop({
    intervalMs: 1000,
    clock,
    onError: () => {},
    pass: async (t) => {
      seen.push(t);
      if (t === blockOn) await new Promise<void>((r) => (unblock = r));
    },
  });
  return { clock, seen, loop, release: () => unblock() };
}

describe("ReconcileLoop", () => {
  it("runs at start, on hints and on the timer", async () => {
    const { clock, seen, loop } = recordingLoop();
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
    const { seen, loop, release } = recordingLoop("start");
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

  describe("a pass asked for later (a hint's spread)", () => {
    const started = async () => {
      const recording = recordingLoop();
      recording.loop.start();
      await tick();
      return recording;
    };

    it("runs after its delay, once for several asks", async () => {
      const { clock, seen, loop } = await started();
      loop.triggerAfter("g1", 300);
      loop.triggerAfter("g2", 100);
      clock.advance(299);
      await tick();
      expect(seen).toEqual(["start"]);
      clock.advance(1);
      await tick();
      expect(seen).toEqual(["start", "g1"]);
      await loop.stop();
    });

    it("is covered by a pass that starts sooner", async () => {
      const { clock, seen, loop } = await started();
      loop.triggerAfter("g", 500);
      loop.trigger("h");
      await tick();
      clock.advance(900);
      await tick();
      expect(seen).toEqual(["start", "h"]);
      await loop.stop();
    });

    it("is not covered by a pass that was already running when it was asked for", async () => {
      const { clock, seen, loop, release } = recordingLoop("start");
      loop.start();
      loop.triggerAfter("g", 200);
      release();
      await tick();
      expect(seen).toEqual(["start"]);
      clock.advance(200);
      await tick();
      expect(seen).toEqual(["start", "g"]);
      await loop.stop();
    });

    it("becomes one more pass when it comes due during a pass", async () => {
      const { clock, seen, loop, release } = recordingLoop("h");
      loop.start();
      await tick();
      loop.triggerAfter("g", 100);
      clock.advance(50);
      loop.trigger("h"); // starts before "g" is due, and covers it
      await tick();
      loop.triggerAfter("g2", 100); // asked for while "h" runs
      clock.advance(100);
      release();
      await tick();
      await tick();
      expect(seen).toEqual(["start", "h", "g2"]);
      await loop.stop();
    });

    it("is not asked for once the loop stopped", async () => {
      const { clock, seen, loop } = await started();
      await loop.stop();
      loop.triggerAfter("g", 200);
      expect(clock.pending).toBe(0);
      clock.advance(500);
      await tick();
      expect(seen).toEqual(["start"]);
    });

    it("runs at once without a delay", async () => {
      const { seen, loop } = await started();
      loop.triggerAfter("g", 0);
      await tick();
      expect(seen).toEqual(["start", "g"]);
      await loop.stop();
    });

    it("does not run after the loop stopped", async () => {
      const { clock, seen, loop } = await started();
      loop.triggerAfter("g", 200);
      await loop.stop();
      expect(clock.pending).toBe(0);
      clock.advance(500);
      await tick();
      expect(seen).toEqual(["start"]);
    });
  });
});

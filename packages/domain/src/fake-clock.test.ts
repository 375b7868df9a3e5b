import { describe, expect, it } from "vitest";
import { FakeClock } from "./fake-clock.js";
import { sleep } from "./reconcile-loop.js";

describe("FakeClock", () => {
  it("fires timers only as the time moves on, in the order they are due, each at its time", () => {
    const clock = new FakeClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    const never = clock.setTimeout(() => fired.push("cleared"), 5);
    clock.clearTimeout(never);
    clock.advance(15);
    expect(fired).toEqual(["a@110"]);
    expect(clock.now()).toBe(115);
    clock.advance(100);
    expect(fired).toEqual(["a@110", "b@120"]);
    expect(clock.now()).toBe(215);
    expect(clock.pending).toBe(0);
  });

  it("never goes back", () => {
    const clock = new FakeClock(50);
    clock.set(10);
    expect(clock.now()).toBe(50);
  });

  it("runUntil moves the time on, timer by timer, until the work is done", async () => {
    const clock = new FakeClock();
    const work = (async () => {
      await sleep(clock, 1000);
      await sleep(clock, 500);
      return clock.now();
    })();
    expect(await clock.runUntil(work)).toBe(1500);
  });

  it("advanceAsync lets promise chains started by a timer set timers of their own", async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    void sleep(clock, 10).then(async () => {
      seen.push(clock.now());
      await sleep(clock, 10);
      seen.push(clock.now());
    });
    await clock.advanceAsync(25);
    expect(seen).toEqual([10, 20]);
  });
});

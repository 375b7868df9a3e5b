// A MonotonicClock for tests: time stands still until the test moves it, and timers fire only
// then, in the order they are due. The one fake clock of the loops' and the agent's tests.
import type { MonotonicClock } from "./reconcile-loop.js";

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** Lets promise chains and I/O callbacks that are ready run (one macrotask turn). */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeClock implements MonotonicClock {
  private time: number;
  private timers: Timer[] = [];
  private ids = 0;

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Sets the time (it never goes back: a monotonic clock). */
  set(ms: number): void {
    this.time = Math.max(this.time, ms);
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ id, at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves the time on by `ms`, firing the timers due meanwhile in order, each at its time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let t = this.nextDue(end); t; t = this.nextDue(end)) this.fire(t);
    this.time = end;
  }

  /** As advance, letting promise chains run before each timer and at the end. */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.time + ms;
    await turn();
    for (let t = this.nextDue(end); t; t = this.nextDue(end)) {
      this.fire(t);
      await turn();
    }
    this.time = end;
    await turn();
  }

  /** Runs the next timer (the time moves to when it was due), then lets promise chains run. */
  async next(): Promise<void> {
    const t = this.nextDue(Number.POSITIVE_INFINITY);
    if (!t) throw new Error("no timer");
    this.fire(t);
    await turn();
  }

  /** Fires every pending timer whatever its time, without moving the time. */
  fireAll(): void {
    const due = this.timers;
    this.timers = [];
    for (const t of due) t.fn();
  }

  /**
   * Moves the time on, timer by timer, until `work` settles, and resolves with its result: a
   * test awaits code that waits on this clock (a retry a second later) without waiting itself.
   */
  async runUntil<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const done = work.finally(() => {
      settled = true;
    });
    for (let idle = 0; !settled; ) {
      await turn();
      if (settled) break;
      // Give I/O in flight (real files) some turns before the time jumps to the next timer.
      if (++idle < 20) continue;
      idle = 0;
      const t = this.nextDue(Number.POSITIVE_INFINITY);
      if (t) this.fire(t);
    }
    return done;
  }

  private nextDue(until: number): Timer | undefined {
    let first: Timer | undefined;
    for (const t of this.timers) if (t.at <= until && (!first || t.at < first.at)) first = t;
    return first;
  }

  private fire(t: Timer): void {
    this.timers = this.timers.filter((x) => x.id !== t.id);
    this.time = Math.max(this.time, t.at);
    t.fn();
  }
}

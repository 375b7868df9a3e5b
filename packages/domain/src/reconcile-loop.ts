// One reconcile-loop runner for engine and agent: a pass at start, then on every hint and on a
// timer; passes never overlap, and hints arriving during a pass coalesce into one more pass.

export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A Clock that also tells the time: milliseconds of a monotonic clock. */
export interface MonotonicClock extends Clock {
  now(): number;
}

/** Node's timers and performance.now. */
export const systemMonotonicClock: MonotonicClock = { ...systemClock, now: () => performance.now() };

/** Resolves after `ms` on the clock (a fake clock in tests: when the test moves it on). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

export interface ReconcileLoopOptions {
  readonly intervalMs: number;
  /** One pass. Errors are reported to onError and the loop goes on. */
  readonly pass: (trigger: string) => Promise<void>;
  readonly onError: (err: unknown) => void;
  readonly clock?: Clock;
}

export class ReconcileLoop {
  private running = false;
  private pending: string | undefined;
  private timer: unknown;
  /** The timer of a pass asked for later (triggerAfter). */
  private deferred: unknown;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();
  private readonly clock: Clock;

  constructor(private readonly options: ReconcileLoopOptions) {
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    this.trigger("start");
  }

  /** Asks for a pass soon; several triggers during a pass give one more pass. */
  trigger(reason: string): void {
    if (this.stopped) return;
    if (this.running) {
      this.pending ??= reason;
      return;
    }
    this.idle = this.run(reason);
  }

  /**
   * Asks for a pass in `delayMs` (a hint's spread). A pass that starts before then, for any
   * reason, covers it; while one such pass is waiting, more asks join it.
   */
  triggerAfter(reason: string, delayMs: number): void {
    if (delayMs <= 0) return this.trigger(reason);
    if (this.stopped || this.deferred !== undefined) return;
    this.deferred = this.clock.setTimeout(() => {
      this.deferred = undefined;
      this.trigger(reason);
    }, delayMs);
  }

  /** Stops the timers and waits for a pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.cancelDeferred();
    await this.idle;
  }

  private async run(reason: string): Promise<void> {
    this.running = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    let next: string | undefined = reason;
    while (next !== undefined && !this.stopped) {
      this.pending = undefined;
      this.cancelDeferred();
      try {
        await this.options.pass(next);
      } catch (err) {
        this.options.onError(err);
      }
      next = this.pending;
    }
    this.running = false;
    if (!this.stopped) this.timer = this.clock.setTimeout(() => this.trigger("interval"), this.options.intervalMs);
  }

  private cancelDeferred(): void {
    if (this.deferred === undefined) return;
    this.clock.clearTimeout(this.deferred);
    this.deferred = undefined;
  }
}

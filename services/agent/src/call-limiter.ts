// At most N calls in flight; the others wait their turn, in order. The agent's D-Bus connection
// uses one: dbus-daemon refuses a connection more than max_replies_per_connection (128 on the
// system bus) pending method calls ("The maximum number of pending replies per connection has
// been reached"), which 300 simultaneous starts on one machine exceeded.
export class CallLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly maxInFlight: number) {
    if (!(maxInFlight >= 1)) throw new Error(`maxInFlight must be at least 1, got ${maxInFlight}`);
  }

  /** Calls in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /** Calls waiting for a free slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxInFlight) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await call();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next caller; only when nobody waits is it freed.
      if (next) next();
      else this.active--;
    }
  }
}

// The agent's heartbeat loop: one heartbeat at a time, every agent_ttl/3 after a success
// (counted from when that heartbeat was sent, so a slow answer does not push the next one
// later: etcd renewed the lease somewhere between send and answer), and
// after a failure again soon, with jittered exponential backoff capped at agent_ttl/6, so that
// one failed call (a gateway restarting, a lost connection) never lets the lease lapse while
// some gateway can be reached. The schedule is a pure function; the loop only waits.
import { systemClock, type Clock } from "@fleet/domain";

/** The first retry after a failure waits about this long. */
export const FIRST_RETRY_MS = 250;

/**
 * How long to wait before the next heartbeat, after `failures` failed ones in a row (0: the
 * last one succeeded). `random` in [0, 1) spreads machines apart: after a success up to 10%
 * earlier than agent_ttl/3 (never later); after a failure between half and all of the
 * exponential step ("equal jitter"), so a thousand agents do not retry in step.
 */
export function nextHeartbeatDelayMs(ttlMs: number, failures: number, random: number): number {
  if (failures <= 0) return (ttlMs / 3) * (0.9 + 0.1 * random);
  const step = Math.min(ttlMs / 6, FIRST_RETRY_MS * 2 ** Math.min(failures - 1, 30));
  return step / 2 + (step / 2) * random;
}

export interface HeartbeatLoopOptions {
  readonly ttlMs: number;
  /** One heartbeat; a rejection counts as a failure. */
  readonly beat: () => Promise<void>;
  readonly onError: (err: unknown, failures: number, retryInMs: number) => void;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Milliseconds of a monotonic clock (default performance.now). */
  readonly now?: () => number;
}

export class HeartbeatLoop {
  private timer: unknown;
  private failures = 0;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly o: HeartbeatLoopOptions) {
    this.clock = o.clock ?? systemClock;
    this.random = o.random ?? Math.random;
    this.now = o.now ?? (() => performance.now());
  }

  /** The first heartbeat (a registration) at once. */
  start(): void {
    this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.inFlight;
  }

  private run(): void {
    if (this.stopped) return;
    const sentAt = this.now();
    this.inFlight = this.o.beat().then(
      () => {
        this.failures = 0;
        this.schedule(this.now() - sentAt);
      },
      (err: unknown) => {
        this.failures++;
        const delay = this.schedule(0);
        this.o.onError(err, this.failures, delay);
      },
    );
  }

  /** Schedules the next heartbeat; `elapsedMs` of its interval already went by. */
  private schedule(elapsedMs: number): number {
    const delay = Math.max(0, nextHeartbeatDelayMs(this.o.ttlMs, this.failures, this.random()) - elapsedMs);
    if (!this.stopped) this.timer = this.clock.setTimeout(() => this.run(), delay);
    return delay;
  }
}

// Follows a feed of the registry: a stream whose first message is the whole state at a revision
// (a snapshot) and every later one what changed. The engine's cluster replica and the api's read
// replica both keep their copy this way:
//
//   connect ──▶ snapshot at revision R ──▶ apply ──▶ synced
//                    deltas after R ──▶ apply (revision seen, waiters woken)
//   stream ends or fails ──▶ not synced ──▶ reconnect after a backoff (minBackoffMs doubling to
//                    maxBackoffMs, with jitter; reset once a snapshot arrives) ──▶ a fresh snapshot
//
// What a message means is the owner's (`apply`); when to trust the copy (`synced`, `waitFor`) and
// how to get it back is this module's.
import { systemClock, type Clock } from "@fleet/domain";
import type { ClientReadableStream } from "@grpc/grpc-js";
import { fromServiceError } from "./errors.js";
import type { Logger } from "./logger.js";

/** What every message of a feed carries. */
export interface FeedEvent {
  /** The registry revision the message brings the copy to. */
  readonly revision: number;
  /** The whole state: the copy starts over from it. */
  readonly snapshot: boolean;
}

export interface FeedSource<E extends FeedEvent> {
  /** Opens a stream from at least `minRevision`; `onEnd` is called once when it ends (err undefined: closed by us). Returns the cancel. */
  watch(minRevision: number, onEvent: (event: E) => void, onEnd: (err: Error | undefined) => void): () => void;
}

/**
 * A FeedSource over a gRPC server stream: `open(minRevision)` starts one, `map` turns each
 * message into an event. No deadline: the stream lives as long as the connection (channel
 * keepalives find a dead peer). A stream the server ends is an error (`closedMessage`).
 */
export function streamFeed<Res, E extends FeedEvent>(
  open: (minRevision: number) => ClientReadableStream<Res>,
  map: (res: Res) => E,
  closedMessage: string,
): FeedSource<E> {
  return {
    watch(minRevision, onEvent, onEnd) {
      const call = open(minRevision);
      let cancelled = false;
      let ended = false;
      const end = (err: Error | undefined): void => {
        if (ended) return;
        ended = true;
        onEnd(err);
      };
      call.on("data", (res: Res) => onEvent(map(res)));
      call.on("error", (err: unknown) => end(cancelled ? undefined : fromServiceError(err)));
      call.on("end", () => end(cancelled ? undefined : new Error(closedMessage)));
      return () => {
        cancelled = true;
        call.cancel();
      };
    },
  };
}

export interface FeedFollowerOptions<E extends FeedEvent> {
  /** What is followed, for the logs ("cluster replica"). */
  readonly what: string;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Called after an applied message's revision counts as seen and its waiters are woken. */
  readonly applied?: (event: E) => void;
}

export class FeedFollower<E extends FeedEvent> {
  private live = false;
  private cancel: (() => void) | undefined;
  private timer: unknown;
  private stopped = false;
  private backoffMs: number;
  private seen = 0;
  /** Which stream is the current one: a cancelled stream's late messages and end are ignored. */
  private generation = 0;
  private waiters: Array<{ revision: number; resolve: (ok: boolean) => void }> = [];
  private readonly clock: Clock;

  /** `apply` is given every snapshot, and every delta after one, before the revision counts as seen. */
  constructor(
    private readonly source: FeedSource<E>,
    private readonly log: Logger,
    private readonly apply: (event: E) => void,
    private readonly options: FeedFollowerOptions<E>,
  ) {
    this.clock = options.clock ?? systemClock;
    this.backoffMs = options.minBackoffMs ?? 200;
  }

  /** True while the stream is open and its snapshot has arrived: the copy reflects the registry. */
  get synced(): boolean {
    return this.live;
  }

  /** The newest revision the copy reflects. */
  get revision(): number {
    return this.seen;
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.live = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.cancel?.();
    this.cancel = undefined;
    for (const w of [...this.waiters]) w.resolve(false);
  }

  /** Resolves true once the copy reflects `revision`, false after timeoutMs or when not synced. */
  waitFor(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.live && this.seen >= revision) return Promise.resolve(true);
    if (!this.live) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        revision,
        resolve: (ok: boolean) => {
          this.clock.clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(ok);
        },
      };
      const timer = this.clock.setTimeout(() => waiter.resolve(false), timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Drops the stream and starts over from a fresh snapshot (the stream seems stuck). */
  resync(reason: string): void {
    // Only a live stream that lags: one still waiting for its snapshot is left to finish.
    if (this.stopped || !this.live || this.cancel === undefined) return;
    this.log.warn({ reason, revision: this.seen }, `re-syncing the ${this.options.what}`);
    const cancel = this.cancel;
    this.cancel = undefined;
    this.live = false;
    this.generation++; // the old stream's end, even if it comes at once, is not ours to handle
    cancel();
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const generation = ++this.generation;
    let ended = false;
    const current = () => !ended && generation === this.generation;
    this.cancel = this.source.watch(
      this.seen,
      (event) => {
        if (!current()) return;
        if (event.snapshot) {
          this.apply(event);
          this.live = true;
          this.backoffMs = this.options.minBackoffMs ?? 200;
          this.log.info({ revision: event.revision }, `${this.options.what} synced`);
        } else if (this.live) this.apply(event);
        else return;
        this.seen = Math.max(this.seen, event.revision);
        for (const w of [...this.waiters]) if (w.revision <= this.seen) w.resolve(true);
        this.options.applied?.(event);
      },
      (err) => {
        if (!current()) return;
        ended = true;
        this.live = false;
        this.cancel = undefined;
        for (const w of [...this.waiters]) w.resolve(false);
        if (this.stopped) return;
        const delay = Math.round(this.backoffMs * (0.5 + (this.options.random ?? Math.random)()));
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5000);
        this.log.warn({ err: err?.message ?? "stream closed", retryMs: delay }, `${this.options.what}: watch ended; re-syncing`);
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined;
          this.connect();
        }, delay);
      },
    );
  }
}

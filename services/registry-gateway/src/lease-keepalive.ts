// A pool of long-lived LeaseKeepAlive streams for every lease the gateway refreshes (agents'
// heartbeats, engines' leadership renewals), each carrying one refresh at a time: a refresh
// writes {ID} and is answered by the next response on that stream (TTL 0: etcd has no such
// lease). Refreshes wait in a queue in the gateway until a stream is free.
//
// Why one at a time: etcd answers a stream's requests in order, and it holds the answer to a
// lease that has expired but is not yet revoked until its revocation (the lessor revokes
// expired leases every 500 ms, at a limited rate, each through raft: seconds when many lapse
// at once). Pipelined on one stream, such a lease delays every refresh behind it, those
// leases lapse in turn, and one lapse becomes a cluster-wide flap. With one refresh per stream
// a held lease blocks only its own stream; the others keep answering. (etcd-store.ts also
// avoids sending refreshes for leases that may have lapsed.)
//
//   keepAlive(id) ──▶ a refresh of id queued or in flight? join it : queue one
//   queue ──▶ each free stream takes the oldest refresh; while some wait and the pool is not
//        full, more streams are opened
//   response {ID, TTL} ──▶ every waiter of that refresh gets TTL; the stream takes the next
//   no answer within timeoutMs ──▶ that waiter fails (EtcdStreamTimeoutError); a refresh in
//        flight stays so (a retry joins it); a queued one nobody waits for any more is dropped
//   a stream's refresh in flight for 2 × timeoutMs ──▶ the stream is stuck: cancelled (which
//        also frees etcd's held request); its waiters fail
//   stream error or end ──▶ its waiters and the queued ones fail (the error as given); the
//        next refresh opens a stream again
import type { Clock } from "@fleet/domain";
import { systemClock } from "@fleet/domain";
import { EtcdStreamEndedError, EtcdStreamTimeoutError } from "./etcd-retry.js";
import { etcdOperations } from "@fleet/wire";

export interface KeepAliveResponse {
  readonly ID: string;
  readonly TTL: string;
}

/** The part of etcd3's LeaseKeepAlive duplex stream this uses. */
export interface KeepAliveStream {
  write(request: { ID: string }): void;
  on(event: "data", fn: (res: KeepAliveResponse) => void): unknown;
  on(event: "error", fn: (err: Error) => void): unknown;
  on(event: "end", fn: () => void): unknown;
  end(): void;
  cancel(): void;
}

export interface LeaseKeepAlivesOptions {
  /** How long one refresh waits for its answer. */
  readonly timeoutMs: number;
  /** Streams at most (default DEFAULT_KEEPALIVE_STREAMS). */
  readonly streams?: number;
  readonly clock?: Clock;
  /** Milliseconds of a monotonic clock (default performance.now). */
  readonly now?: () => number;
}

/**
 * Streams at most: enough for a thousand machines' heartbeats (600 a second at agent_ttl 5)
 * at a few tens of milliseconds per round trip, with room for held ones. Each is one HTTP/2
 * stream on the gateway's connection to etcd, opened only when refreshes wait.
 */
export const DEFAULT_KEEPALIVE_STREAMS = 64;

interface Waiter {
  readonly resolve: (ttl: number) => void;
  readonly reject: (err: Error) => void;
  timer: unknown;
}

/** One refresh: queued (no stream yet) or in flight on a stream. */
interface Refresh {
  readonly id: string;
  readonly waiters: Set<Waiter>;
  stream: OpenStream | undefined;
  sentAt: number;
}

interface OpenStream {
  readonly slot: number;
  readonly stream: KeepAliveStream;
  inFlight: Refresh | undefined;
  closed: boolean;
}

export class LeaseKeepAlives {
  private readonly slots: Array<OpenStream | undefined>;
  private readonly opening: boolean[];
  private readonly byLease = new Map<string, Refresh>();
  private readonly queue: Refresh[] = [];
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly now: () => number;
  private closed = false;
  /** Streams opened so far (for logs and tests). */
  opened = 0;
  /** Streams taken for stuck and cancelled so far. */
  stuck = 0;

  constructor(
    private readonly open: () => Promise<KeepAliveStream>,
    options: LeaseKeepAlivesOptions,
  ) {
    const size = Math.max(1, Math.floor(options.streams ?? DEFAULT_KEEPALIVE_STREAMS));
    this.slots = new Array<OpenStream | undefined>(size).fill(undefined);
    this.opening = new Array<boolean>(size).fill(false);
    this.timeoutMs = options.timeoutMs;
    this.clock = options.clock ?? systemClock;
    this.now = options.now ?? (() => performance.now());
  }

  /** Refreshes lease `id`; resolves with its new TTL in seconds (0: etcd has no such lease). */
  keepAlive(id: string): Promise<number> {
    if (this.closed) return Promise.reject(new EtcdStreamEndedError("the gateway is shutting down"));
    let refresh = this.byLease.get(id);
    if (!refresh) {
      refresh = { id, waiters: new Set(), stream: undefined, sentAt: 0 };
      this.byLease.set(id, refresh);
      this.queue.push(refresh);
    }
    const answer = this.wait(refresh);
    this.pump();
    return answer;
  }

  /** Refreshes queued or in flight. */
  get outstanding(): number {
    return this.byLease.size;
  }

  /** Ends every stream; refreshes waiting fail. */
  close(): void {
    this.closed = true;
    const err = new EtcdStreamEndedError("the gateway is shutting down");
    for (const s of this.slots) if (s) this.fail(s, err, true);
    this.failQueued(err);
  }

  private wait(refresh: Refresh): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      refresh.waiters.add(waiter);
      waiter.timer = this.clock.setTimeout(() => {
        refresh.waiters.delete(waiter);
        reject(new EtcdStreamTimeoutError(`lease ${refresh.id} keep-alive: no answer within ${this.timeoutMs} ms`));
        if (refresh.stream) this.failIfStuck(refresh.stream);
        else if (refresh.waiters.size === 0) this.dropQueued(refresh);
      }, this.timeoutMs);
    });
  }

  /** Hands queued refreshes to free streams, opening streams while refreshes wait. */
  private pump(): void {
    for (const s of this.slots) if (s) this.failIfStuck(s);
    for (const s of this.slots) {
      if (this.queue.length === 0) return;
      if (s && !s.closed && s.inFlight === undefined) this.send(s, this.queue.shift() as Refresh);
    }
    let toOpen = this.queue.length - this.opening.filter(Boolean).length;
    for (let i = 0; i < this.slots.length && toOpen > 0; i++) {
      if (!this.slots[i] && !this.opening[i]) {
        this.openSlot(i);
        toOpen--;
      }
    }
  }

  private send(s: OpenStream, refresh: Refresh): void {
    refresh.stream = s;
    refresh.sentAt = this.now();
    s.inFlight = refresh;
    try {
      s.stream.write({ ID: refresh.id });
      etcdOperations.inc({ operation: "lease-keepalive", outcome: "sent" });
    } catch (err) {
      this.fail(s, err instanceof Error ? err : new EtcdStreamEndedError(String(err)), true);
    }
  }

  private openSlot(slot: number): void {
    this.opening[slot] = true;
    this.open().then(
      (stream) => {
        this.opening[slot] = false;
        const s: OpenStream = { slot, stream, inFlight: undefined, closed: false };
        this.opened++;
        stream.on("data", (res) => this.answer(s, res));
        stream.on("error", (err) => this.fail(s, err, false));
        stream.on("end", () => this.fail(s, new EtcdStreamEndedError("etcd ended the lease keep-alive stream"), false));
        if (this.closed) {
          this.fail(s, new EtcdStreamEndedError("the gateway is shutting down"), true);
          return;
        }
        this.slots[slot] = s;
        this.pump();
      },
      (err: unknown) => {
        this.opening[slot] = false;
        // Nothing to send the queue on: its waiters hear why now, not at their timeout.
        if (!this.slots.some((s) => s && !s.closed) && !this.opening.some(Boolean)) {
          this.failQueued(err instanceof Error ? err : new EtcdStreamEndedError(String(err)));
        }
      },
    );
  }

  private answer(s: OpenStream, res: KeepAliveResponse): void {
    const refresh = s.inFlight;
    if (!refresh || refresh.id !== res.ID) return;
    s.inFlight = undefined;
    if (this.byLease.get(refresh.id) === refresh) this.byLease.delete(refresh.id);
    const ttl = Number(res.TTL);
    for (const w of refresh.waiters) {
      this.clock.clearTimeout(w.timer);
      w.resolve(Number.isFinite(ttl) ? ttl : 0);
    }
    this.pump();
  }

  private failIfStuck(s: OpenStream): void {
    const refresh = s.inFlight;
    if (!refresh || s.closed) return;
    const ageMs = this.now() - refresh.sentAt;
    if (ageMs < 2 * this.timeoutMs) return;
    this.stuck++;
    this.fail(s, new EtcdStreamEndedError(`lease keep-alive stream held lease ${refresh.id}'s refresh for ${Math.round(ageMs)} ms`), true);
  }

  private fail(s: OpenStream, err: Error, cancel: boolean): void {
    if (s.closed) return;
    s.closed = true;
    if (this.slots[s.slot] === s) this.slots[s.slot] = undefined;
    const refresh = s.inFlight;
    s.inFlight = undefined;
    if (refresh) {
      if (this.byLease.get(refresh.id) === refresh) this.byLease.delete(refresh.id);
      for (const w of refresh.waiters) {
        this.clock.clearTimeout(w.timer);
        w.reject(err);
      }
    }
    if (cancel) {
      try {
        // Half-closed first: etcd3 then does not take the cancellation for a failing member.
        s.stream.end();
        s.stream.cancel();
      } catch {
        // already gone
      }
    }
    if (this.closed) return;
    // A stream etcd broke off: the connection is likely gone for every stream, so the queue
    // hears it now (its callers retry) rather than re-opening streams in a loop. A stream we
    // cancelled (stuck): the queue goes on other streams.
    if (cancel) this.pump();
    else this.failQueued(err);
  }

  private dropQueued(refresh: Refresh): void {
    const i = this.queue.indexOf(refresh);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.byLease.get(refresh.id) === refresh) this.byLease.delete(refresh.id);
  }

  private failQueued(err: Error): void {
    const queued = this.queue.splice(0);
    for (const refresh of queued) {
      if (this.byLease.get(refresh.id) === refresh) this.byLease.delete(refresh.id);
      for (const w of refresh.waiters) {
        this.clock.clearTimeout(w.timer);
        w.reject(err);
      }
    }
  }
}

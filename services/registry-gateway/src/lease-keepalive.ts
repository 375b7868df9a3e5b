// A small pool of long-lived LeaseKeepAlive streams for every lease the gateway refreshes
// (agents' heartbeats, engines' leadership renewals), as etcd's own client keeps one: each
// refresh writes {ID} and is answered by the next response carrying that ID. A lease etcd no
// longer has is answered with TTL 0.
//
// Why a pool and not one stream: etcd answers a stream's requests in order, and it holds the
// answer to a lease that has expired but is not yet revoked until its revocation (the lessor
// revokes at most so many leases a second, later when busy). On a single stream one such
// lease delays every other machine's heartbeat behind it, their leases lapse in turn, and
// one lapse becomes a cluster-wide flap. With several streams, each refresh goes to the
// stream with the fewest requests outstanding, so a held stream stops taking new ones.
// (etcd-store.ts also avoids sending refreshes for leases that may have lapsed.)
//
//   keepAlive(id) ──▶ a request for id outstanding? join it
//        │            else: the least busy stream (opening one while the pool is not full
//        ▼            and every open stream is busy) and write {ID: id}
//   response {ID, TTL} ──▶ every waiter of that ID gets TTL
//   no answer within timeoutMs ──▶ that waiter fails (EtcdStreamTimeoutError); the request
//        stays outstanding, so a retry joins it instead of queueing a second one behind it
//   oldest outstanding request of a stream older than 2 × timeoutMs, and nothing received on it
//        for timeoutMs ──▶ the stream is stuck: cancelled (which also frees etcd's held
//        request); its waiters fail. (A stream that still answers is slow, or this process is
//        short of CPU: cancelling it would only throw its answers away.)
//   stream error or end ──▶ its waiters fail (the error as given); the next refresh re-opens
import type { Clock } from "@fleet/domain";
import { systemClock } from "@fleet/domain";
import { EtcdStreamEndedError, EtcdStreamTimeoutError } from "./etcd-retry.js";

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

/** Enough that a few held leases leave most streams free; each is one HTTP/2 stream. */
export const DEFAULT_KEEPALIVE_STREAMS = 16;

interface Waiter {
  readonly resolve: (ttl: number) => void;
  readonly reject: (err: Error) => void;
  timer: unknown;
}

/** One request written and not yet answered. */
interface Outstanding {
  readonly id: string;
  readonly sentAt: number;
  readonly stream: OpenStream;
  readonly waiters: Set<Waiter>;
}

interface OpenStream {
  readonly slot: number;
  readonly stream: KeepAliveStream;
  /** In the order written: the first is the oldest. */
  readonly outstanding: Map<string, Outstanding>;
  /** When the stream opened or last received an answer. */
  lastReceivedAt: number;
  closed: boolean;
}

export class LeaseKeepAlives {
  private readonly slots: Array<OpenStream | undefined>;
  private readonly opening: Array<Promise<OpenStream> | undefined>;
  private readonly byLease = new Map<string, Outstanding>();
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
    this.opening = new Array<Promise<OpenStream> | undefined>(size).fill(undefined);
    this.timeoutMs = options.timeoutMs;
    this.clock = options.clock ?? systemClock;
    this.now = options.now ?? (() => performance.now());
  }

  /** Refreshes lease `id`; resolves with its new TTL in seconds (0: etcd has no such lease). */
  async keepAlive(id: string): Promise<number> {
    if (this.closed) throw new EtcdStreamEndedError("the gateway is shutting down");
    let entry = this.byLease.get(id);
    if (!entry) {
      const opened = await this.pick();
      // Refreshes that waited together spread over what is open now.
      const s = this.leastBusy() ?? opened;
      if (s.closed) throw new EtcdStreamEndedError("lease keep-alive stream ended");
      // Another refresh of the same lease may have been written while this one waited.
      entry = this.byLease.get(id) ?? this.write(s, id);
    }
    return this.wait(entry);
  }

  /** Requests written and not yet answered, over every stream. */
  get outstanding(): number {
    return this.byLease.size;
  }

  /** Ends every stream; refreshes waiting on them fail. */
  close(): void {
    this.closed = true;
    for (const s of this.slots) if (s) this.fail(s, new EtcdStreamEndedError("the gateway is shutting down"), true);
  }

  private write(s: OpenStream, id: string): Outstanding {
    const entry: Outstanding = { id, sentAt: this.now(), stream: s, waiters: new Set() };
    s.outstanding.set(id, entry);
    this.byLease.set(id, entry);
    try {
      s.stream.write({ ID: id });
    } catch (err) {
      // The entry's waiters are added after this returns; fail() rejects none of them, so the
      // caller's wait finds the stream closed and the entry gone.
      this.fail(s, err instanceof Error ? err : new EtcdStreamEndedError(String(err)), true);
    }
    return entry;
  }

  private wait(entry: Outstanding): Promise<number> {
    const s = entry.stream;
    if (s.closed || this.byLease.get(entry.id) !== entry) {
      return Promise.reject(new EtcdStreamEndedError("lease keep-alive stream ended"));
    }
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      entry.waiters.add(waiter);
      waiter.timer = this.clock.setTimeout(() => {
        entry.waiters.delete(waiter);
        reject(new EtcdStreamTimeoutError(`lease ${entry.id} keep-alive: no answer within ${this.timeoutMs} ms`));
        this.failIfStuck(s);
      }, this.timeoutMs);
    });
  }

  /** The least busy open stream; a new one while the pool has room and every open one is busy. */
  private pick(): Promise<OpenStream> {
    let best: OpenStream | undefined;
    let free = -1;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      if (s) this.failIfStuck(s);
      if (s && !s.closed) {
        if (!best || s.outstanding.size < best.outstanding.size) best = s;
      } else if (free < 0 && !this.opening[i]) {
        free = i;
      }
    }
    if (best && best.outstanding.size === 0) return Promise.resolve(best);
    if (free >= 0) return this.openSlot(free);
    if (best) return Promise.resolve(best);
    // Every slot is opening: wait for one.
    return this.opening.find((p) => p !== undefined) as Promise<OpenStream>;
  }

  private leastBusy(): OpenStream | undefined {
    let best: OpenStream | undefined;
    for (const s of this.slots) if (s && !s.closed && (!best || s.outstanding.size < best.outstanding.size)) best = s;
    return best;
  }

  private openSlot(slot: number): Promise<OpenStream> {
    const opening = this.open().then(
      (stream) => {
        this.opening[slot] = undefined;
        const s: OpenStream = { slot, stream, outstanding: new Map(), lastReceivedAt: this.now(), closed: false };
        this.opened++;
        stream.on("data", (res) => this.answer(s, res));
        stream.on("error", (err) => this.fail(s, err, false));
        stream.on("end", () => this.fail(s, new EtcdStreamEndedError("etcd ended the lease keep-alive stream"), false));
        if (this.closed) this.fail(s, new EtcdStreamEndedError("the gateway is shutting down"), true);
        else this.slots[slot] = s;
        return s;
      },
      (err: unknown) => {
        this.opening[slot] = undefined;
        throw err;
      },
    );
    this.opening[slot] = opening;
    return opening;
  }

  private answer(s: OpenStream, res: KeepAliveResponse): void {
    s.lastReceivedAt = this.now();
    const entry = s.outstanding.get(res.ID);
    if (!entry) return;
    s.outstanding.delete(res.ID);
    if (this.byLease.get(res.ID) === entry) this.byLease.delete(res.ID);
    const ttl = Number(res.TTL);
    for (const w of entry.waiters) {
      this.clock.clearTimeout(w.timer);
      w.resolve(Number.isFinite(ttl) ? ttl : 0);
    }
  }

  private failIfStuck(s: OpenStream): void {
    const oldest = s.outstanding.values().next();
    if (oldest.done || s.closed) return;
    const now = this.now();
    const ageMs = now - oldest.value.sentAt;
    if (ageMs < 2 * this.timeoutMs || now - s.lastReceivedAt < this.timeoutMs) return;
    this.stuck++;
    this.fail(s, new EtcdStreamEndedError(`lease keep-alive stream held lease ${oldest.value.id}'s refresh for ${Math.round(ageMs)} ms`), true);
  }

  private fail(s: OpenStream, err: Error, cancel: boolean): void {
    if (s.closed) return;
    s.closed = true;
    if (this.slots[s.slot] === s) this.slots[s.slot] = undefined;
    const waiting = [...s.outstanding.values()];
    s.outstanding.clear();
    for (const entry of waiting) {
      if (this.byLease.get(entry.id) === entry) this.byLease.delete(entry.id);
      for (const w of entry.waiters) {
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
  }
}

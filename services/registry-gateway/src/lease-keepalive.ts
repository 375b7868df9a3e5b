// One long-lived LeaseKeepAlive stream for every lease the gateway refreshes (agents'
// heartbeats, engines' leadership renewals), as etcd's own client does: each refresh writes
// {ID} and is answered by the next response carrying that ID. A lease etcd no longer has is
// answered with TTL 0.
//
//   keepAlive(id) ──▶ stream open? (else open one; concurrent callers share the opening)
//        │            a request for id already waiting? join it : write {ID: id}
//        ▼
//   response {ID, TTL} ──▶ every waiter of that ID gets TTL
//   no response within timeoutMs ──▶ that waiter fails (EtcdStreamTimeoutError); if nothing at
//        all came back on the stream since the request was written, the stream is taken for
//        stuck: it is cancelled and the next refresh opens a new one
//   stream error or end ──▶ every waiter fails (the error as given); the next refresh re-opens
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

interface Waiter {
  readonly resolve: (ttl: number) => void;
  readonly reject: (err: Error) => void;
  timer: unknown;
}

interface Pending {
  readonly waiters: Set<Waiter>;
  /** responses received on the stream when this ID's request was written */
  readonly receivedAtWrite: number;
}

interface OpenStream {
  readonly stream: KeepAliveStream;
  readonly pending: Map<string, Pending>;
  received: number;
  closed: boolean;
}

export class LeaseKeepAlives {
  private current: OpenStream | undefined;
  private opening: Promise<OpenStream> | undefined;
  private closed = false;
  /** Streams opened so far (for logs and tests). */
  opened = 0;

  constructor(
    private readonly open: () => Promise<KeepAliveStream>,
    private readonly timeoutMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Refreshes lease `id`; resolves with its new TTL in seconds (0: etcd has no such lease). */
  async keepAlive(id: string): Promise<number> {
    if (this.closed) throw new EtcdStreamEndedError("the gateway is shutting down");
    const s = await this.stream();
    if (s.closed) throw new EtcdStreamEndedError("lease keep-alive stream ended");
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      let pending = s.pending.get(id);
      const write = pending === undefined;
      if (!pending) s.pending.set(id, (pending = { waiters: new Set(), receivedAtWrite: s.received }));
      const entry = pending;
      entry.waiters.add(waiter);
      waiter.timer = this.clock.setTimeout(() => {
        entry.waiters.delete(waiter);
        if (entry.waiters.size === 0 && s.pending.get(id) === entry) s.pending.delete(id);
        // Nothing came back at all since the request went out: the stream is stuck, not slow.
        if (s.received === entry.receivedAtWrite) this.fail(s, new EtcdStreamEndedError(`lease keep-alive stream answered nothing for ${this.timeoutMs} ms`), true);
        reject(new EtcdStreamTimeoutError(`lease ${id} keep-alive: no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      if (write) {
        try {
          s.stream.write({ ID: id });
        } catch (err) {
          this.fail(s, err instanceof Error ? err : new EtcdStreamEndedError(String(err)), true);
        }
      }
    });
  }

  /** Ends the stream; refreshes waiting on it fail. */
  close(): void {
    this.closed = true;
    if (this.current) this.fail(this.current, new EtcdStreamEndedError("the gateway is shutting down"), true);
  }

  private stream(): Promise<OpenStream> {
    if (this.current && !this.current.closed) return Promise.resolve(this.current);
    this.opening ??= this.open().then(
      (stream) => {
        this.opening = undefined;
        const s: OpenStream = { stream, pending: new Map(), received: 0, closed: false };
        this.opened++;
        stream.on("data", (res) => this.answer(s, res));
        stream.on("error", (err) => this.fail(s, err, false));
        stream.on("end", () => this.fail(s, new EtcdStreamEndedError("etcd ended the lease keep-alive stream"), false));
        if (this.closed) this.fail(s, new EtcdStreamEndedError("the gateway is shutting down"), true);
        else this.current = s;
        return s;
      },
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }

  private answer(s: OpenStream, res: KeepAliveResponse): void {
    s.received++;
    const pending = s.pending.get(res.ID);
    if (!pending) return;
    s.pending.delete(res.ID);
    const ttl = Number(res.TTL);
    for (const w of pending.waiters) {
      this.clock.clearTimeout(w.timer);
      w.resolve(Number.isFinite(ttl) ? ttl : 0);
    }
  }

  private fail(s: OpenStream, err: Error, cancel: boolean): void {
    if (s.closed) return;
    s.closed = true;
    if (this.current === s) this.current = undefined;
    const waiting = [...s.pending.values()];
    s.pending.clear();
    for (const p of waiting) {
      for (const w of p.waiters) {
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

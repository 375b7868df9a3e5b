// When each lease this gateway refreshes could expire at the earliest, so that a refresh for
// a lease that may already have lapsed is not sent down a keep-alive stream: etcd holds the
// answer to such a refresh until it has revoked the lease, and every refresh behind it on
// that stream waits too (lease-keepalive.ts). Such a lease is asked about first
// (LeaseTimeToLive, a unary call that never waits for a revocation).
//
// The earliest expiry is the send time of the last refresh (or grant) that etcd answered plus
// the TTL it answered with: etcd set the new expiry when it handled the request, which was
// after it was sent. Pure: times are milliseconds given by the caller.

export type RefreshRoute = "keep-alive" | "ask-first";

interface Deadline {
  /** The earliest the lease can expire (ms). */
  readonly expiresAt: number;
}

/** Leases whose deadline passed this long ago are dropped when the table is swept. */
export const FORGET_AFTER_MS = 60_000;

export class LeaseDeadlines {
  private readonly leases = new Map<string, Deadline>();
  private sweptAtSize = 1024;

  constructor(
    /** A refresh sent later than this before the deadline may arrive after it. */
    private readonly marginMs: number,
  ) {}

  /** etcd answered a grant or refresh sent at `sentAt` with `ttlSeconds` (≤ 0: the lease is gone). */
  renewed(id: string, ttlSeconds: number, sentAt: number): void {
    if (!(ttlSeconds > 0)) {
      this.leases.delete(id);
      return;
    }
    this.leases.set(id, { expiresAt: sentAt + ttlSeconds * 1000 });
    if (this.leases.size >= 2 * this.sweptAtSize) this.sweep(sentAt);
  }

  forget(id: string): void {
    this.leases.delete(id);
  }

  /** The earliest lease `id` can expire; undefined when unknown. */
  expiresAt(id: string): number | undefined {
    return this.leases.get(id)?.expiresAt;
  }

  /** How to refresh lease `id` at `now`: straight on a stream, or ask etcd whether it lives first. */
  route(id: string, now: number): RefreshRoute {
    const d = this.leases.get(id);
    // Unknown: granted by another gateway, or before this one started.
    if (!d) return "ask-first";
    return now + this.marginMs < d.expiresAt ? "keep-alive" : "ask-first";
  }

  get size(): number {
    return this.leases.size;
  }

  /** Drops leases long past their deadline (machines that vanished without revoking). */
  private sweep(now: number): void {
    for (const [id, d] of this.leases) if (d.expiresAt + FORGET_AFTER_MS < now) this.leases.delete(id);
    this.sweptAtSize = Math.max(1024, this.leases.size);
  }
}

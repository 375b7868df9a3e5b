// The only code that talks to etcd: a range read plus a watch that keep the RegistryCache
// current (etcd-cache-follower.ts), transactions for writes, and leases; connected as
// etcd-client.ts says.
//
// How it rides out etcd trouble (docs/architecture.md, "The gateway's watch cache"):
// - every attempt of every request gets a fresh deadline (etcd_request_timeout);
// - a member's circuit opens only when its connection is lost (member-policy.ts), never for a
//   slow request;
// - a failed attempt is retried with jittered backoff only when that is safe (etcd-retry.ts):
//   always when the request provably never reached etcd, otherwise only for idempotent
//   operations; LeaseGrant and create transactions are never re-sent blindly;
// - a few long-lived LeaseKeepAlive streams carry every lease refresh (lease-keepalive.ts);
//   a lease that may have lapsed is asked about first (lease-deadlines.ts), never refreshed
//   blindly: etcd would hold that refresh, and the stream's others, until it revokes it;
// - when the watch disconnects, the store is unhealthy until it has re-read every fleet key
//   and a new watch from that revision is connected: listeners (WatchCluster) hear both edges.
import type { IPolicy } from "cockatiel";
import { EtcdLeaseInvalidError, type Etcd3, type ITxnRequest } from "etcd3";
import { currentRequestId, timedEtcd, type Logger } from "@fleet/wire";
import { CacheFollower, type ChangeListener } from "./etcd-cache-follower.js";
import { connectEtcd, retryPolicies, type EtcdStoreOptions } from "./etcd-client.js";
import { etcdFailureToFleetError, type EtcdOp } from "./etcd-retry.js";
import { LeaseDeadlines } from "./lease-deadlines.js";
import { LeaseKeepAlives } from "./lease-keepalive.js";
import type { RegistryCache } from "./registry-cache.js";
import { RevisionRequests } from "./revision-requests.js";
import type { RegistryStore, TxnResult } from "./registry-store.js";
import type { Keys } from "./keys.js";

export { etcdTls, type EtcdStoreOptions, type EtcdTls } from "./etcd-client.js";
export { prefixEnd, type ChangeListener } from "./etcd-cache-follower.js";

export class EtcdStore implements RegistryStore {
  private readonly client: Etcd3;
  private readonly follower: CacheFollower;
  private readonly policies: Record<EtcdOp, IPolicy>;
  private readonly keepAlives: LeaseKeepAlives;
  private readonly deadlines: LeaseDeadlines;
  private closed = false;

  /** Which request wrote each recent revision (for the hints the watch publishes). */
  readonly requests = new RevisionRequests();

  constructor(
    keys: Keys,
    readonly cache: RegistryCache,
    options: EtcdStoreOptions,
    private readonly log: Logger,
  ) {
    const timeoutMs = options.requestTimeoutMs;
    this.client = connectEtcd(options);
    this.follower = new CacheFollower(this.client, keys, cache, timeoutMs, log);
    this.policies = retryPolicies(log);
    this.keepAlives = new LeaseKeepAlives(() => this.client.leaseClient.leaseKeepAlive(), { timeoutMs });
    // A refresh may take up to one request timeout to reach etcd.
    this.deadlines = new LeaseDeadlines(timeoutMs);
  }

  /**
   * True while the watch is connected and the cache has caught up with etcd: only then does the
   * cache follow etcd. False before start() and from a lost watch until the re-read is done.
   */
  get healthy(): boolean {
    return this.follower.healthy;
  }

  /** Hears each change of `healthy`; returns the unsubscribe. */
  onHealth(listener: (healthy: boolean, reason: string) => void): () => void {
    return this.follower.onHealth(listener);
  }

  /**
   * Loads every fleet key (waiting for etcd as long as it takes), then follows changes;
   * onChanges gets each committed batch (an empty one too: its revision is news).
   */
  start(onChanges: ChangeListener): Promise<void> {
    return this.follower.start(onChanges);
  }

  /** Resolves once the cache has seen `revision` (or after timeoutMs: reads then are at most that stale). */
  waitForRevision(revision: number, timeoutMs = 2000): Promise<void> {
    return this.follower.waitForRevision(revision, timeoutMs);
  }

  /** The newest revision this gateway's own writes reached. */
  lastCommitted = 0;

  /** Runs one etcd request under op's retry policy; failures come out as FleetErrors. */
  private async run<T>(op: EtcdOp, fn: () => Promise<T>): Promise<T> {
    try {
      // Each attempt is one etcd request: timed and counted as such (retries included).
      return await this.policies[op].execute(() => timedEtcd(op, fn));
    } catch (err) {
      throw etcdFailureToFleetError(op, err);
    }
  }

  /**
   * A transaction. "txn-idempotent" ones are retried after any transient failure; "txn-once"
   * ones only when the failed attempt provably never reached etcd.
   */
  async txn(req: ITxnRequest, op: "txn-idempotent" | "txn-once"): Promise<TxnResult> {
    const write = this.requests.begin(req, currentRequestId());
    // The revision this request wrote (a failed compare wrote nothing: its header's revision is another's).
    let wrote: number | undefined;
    try {
      const response = await this.run(op, () => this.client.kv.txn(req));
      const revision = Number(response.header.revision);
      this.lastCommitted = Math.max(this.lastCommitted, revision);
      if (response.succeeded) wrote = revision;
      return { succeeded: response.succeeded, revision, response };
    } finally {
      this.requests.settled(write, wrote);
    }
  }

  /** One key as etcd has it now (a linearizable read, not the cache); undefined when absent. */
  async get(key: string): Promise<{ value: string; lease: string; createRevision: number } | undefined> {
    const res = await this.run("range", () => this.client.kv.range({ key: Buffer.from(key) }));
    const kv = res.kvs[0];
    return kv ? { value: kv.value.toString(), lease: String(kv.lease ?? "0"), createRevision: Number(kv.create_revision) } : undefined;
  }

  async getPrefix(prefix: string, limit: number, last = false): Promise<Array<{ key: string; value: string }>> {
    const key = Buffer.from(prefix);
    const end = Buffer.from(prefix);
    end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
    const order = last ? { sort_order: "Descend" as const, sort_target: "Key" as const } : {};
    const res = await this.run("range", () => this.client.kv.range({ key, range_end: end, limit, ...order }));
    const kvs = res.kvs.map((kv) => ({ key: kv.key.toString(), value: kv.value.toString() }));
    return last ? kvs.reverse() : kvs;
  }

  /** Grants a lease; never re-sent after an attempt that may have reached etcd. */
  async grantLease(ttlSeconds: number): Promise<string> {
    const sentAt = performance.now();
    const res = await this.run("lease-grant", () => this.client.leaseClient.leaseGrant({ TTL: ttlSeconds }));
    this.deadlines.renewed(res.ID, Number(res.TTL), sentAt);
    return res.ID;
  }

  /** Revokes a lease (one etcd no longer has counts as revoked). Failures are logged, not thrown. */
  async revokeLease(id: string): Promise<void> {
    this.deadlines.forget(id);
    try {
      await this.run("lease-revoke", () =>
        this.client.leaseClient.leaseRevoke({ ID: id }).catch((err: unknown) => {
          if (err instanceof EtcdLeaseInvalidError) return undefined;
          throw err;
        }),
      );
    } catch (err) {
      this.log.warn({ lease: id, err: (err as Error).message }, "cannot revoke lease; it lapses after its TTL");
    }
  }

  /**
   * Refreshes a lease over the shared keep-alive streams; false when etcd says it no longer
   * exists or has expired. A lease that may have lapsed since its last refresh (or that this
   * gateway has not refreshed before) is looked up first.
   */
  async keepAlive(id: string, mustLiveMs?: number): Promise<boolean> {
    if (mustLiveMs !== undefined && (this.deadlines.expiresAt(id) ?? 0) >= performance.now() + mustLiveMs) return true;
    if (this.deadlines.route(id, performance.now()) === "ask-first") {
      const left = await this.leaseTimeToLive(id);
      // Expired but not yet revoked reads as TTL ≤ 0: the lease is as good as gone.
      if (!left || left.ttlSeconds <= 0) return false;
    }
    const sentAt = performance.now();
    const ttl = await this.run("lease-keepalive", () => this.keepAlives.keepAlive(id));
    this.deadlines.renewed(id, ttl, sentAt);
    return ttl > 0;
  }

  leaseExpiresAt(id: string): number | undefined {
    return this.deadlines.expiresAt(id);
  }

  /** A lease's remaining and granted TTL in seconds; undefined when etcd has no such lease. */
  async leaseTimeToLive(id: string): Promise<{ ttlSeconds: number; grantedSeconds: number } | undefined> {
    const askedAt = performance.now();
    const res = await this.run("lease-ttl", () => this.client.leaseClient.leaseTimeToLive({ ID: id }));
    const ttl = Number(res.TTL);
    // etcd answers whole seconds, rounded down: the lease lives at least that long from the ask.
    this.deadlines.renewed(id, ttl, askedAt);
    return ttl < 0 ? undefined : { ttlSeconds: ttl, grantedSeconds: Number(res.grantedTTL) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.follower.close();
    this.keepAlives.close();
    this.client.close();
  }
}

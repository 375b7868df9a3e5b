// The only code that talks to etcd: a range read plus a watch that keep the RegistryCache
// current, transactions for writes, and leases.
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
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { ExponentialBackoff, handleWhen, noop, retry, type IBackoff, type RetryPolicy } from "cockatiel";
import { Etcd3, EtcdLeaseInvalidError, type IKeyValue, type IOptions, type ITxnRequest, type ITxnResponse, type Watcher } from "etcd3";
import type { Logger } from "@fleet/wire";
import { etcdFailureToFleetError, shouldRetry, type EtcdOp } from "./etcd-retry.js";
import { LeaseDeadlines } from "./lease-deadlines.js";
import { LeaseKeepAlives } from "./lease-keepalive.js";
import { MemberPolicy } from "./member-policy.js";
import { RegistryCache, resyncEvents, type CacheChange, type KeyValueEvent } from "./registry-cache.js";
import type { Keys } from "./keys.js";

export interface EtcdStoreOptions {
  readonly hosts: readonly string[];
  readonly requestTimeoutMs: number;
  readonly auth?: { username: string; password: string };
  readonly tls?: EtcdTls;
}

/** PEM contents for talking to etcd over TLS (etcd_cafile, etcd_certfile, etcd_keyfile). */
export interface EtcdTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** Reads the etcd TLS files; undefined when none is set. Errors name the option. */
export function etcdTls(cafile: string, certfile: string, keyfile: string): EtcdTls | undefined {
  if ((certfile === "") !== (keyfile === "")) throw new Error("etcd_certfile and etcd_keyfile go together");
  const read = (path: string, option: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read ${option} ${path}: ${(err as Error).message}`);
    }
  };
  if (!cafile && !certfile) return undefined;
  return {
    ...(cafile ? { ca: read(cafile, "etcd_cafile") } : {}),
    ...(certfile ? { cert: read(certfile, "etcd_certfile"), key: read(keyfile, "etcd_keyfile") } : {}),
  };
}

/** Retries after the first attempt, for operations where a retry is allowed at all. */
const RETRIES = 2;
/** A full read of every fleet key may take longer than one small request. */
const MIN_LOAD_TIMEOUT_MS = 5_000;
/** How long re-reads after a lost watch back off at most. */
const MAX_RELOAD_BACKOFF_MS = 1_000;

export type ChangeListener = (changes: CacheChange[], revision: number) => void;

export class EtcdStore {
  private readonly client: Etcd3;
  private readonly waiters: Array<{ revision: number; resolve: () => void }> = [];
  private readonly policies: Record<EtcdOp, RetryPolicy>;
  private readonly keepAlives: LeaseKeepAlives;
  private readonly deadlines: LeaseDeadlines;
  private readonly healthListeners = new Set<(healthy: boolean, reason: string) => void>();
  private onChanges: ChangeListener = () => undefined;
  private watcher: Watcher | undefined;
  /** Re-reads since the watch was last connected: their backoff grows until one connects. */
  private reloads = 0;
  private isHealthy = false;
  private closed = false;

  constructor(
    private readonly keys: Keys,
    readonly cache: RegistryCache,
    private readonly options: EtcdStoreOptions,
    private readonly log: Logger,
  ) {
    const timeoutMs = options.requestTimeoutMs;
    const opts: IOptions = {
      hosts: [...options.hosts],
      // Resolved by etcd3 for each attempt: a retry never inherits a spent deadline. Streams
      // (watch, keep-alive) live as long as their connection.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      grpcOptions: {
        // A member that stops answering (hung, or cut off) is noticed by HTTP/2 pings; etcd
        // refuses pings more often than every 5 s (--grpc-keepalive-min-time).
        "grpc.keepalive_time_ms": 10_000,
        "grpc.keepalive_timeout_ms": 5_000,
        // A returning member is dialled again within a second (grpc's default backs off to 120 s).
        "grpc.initial_reconnect_backoff_ms": 100,
        "grpc.max_reconnect_backoff_ms": MAX_RELOAD_BACKOFF_MS,
      },
      faultHandling: {
        host: () => new MemberPolicy(),
        // Retries are decided per operation (policies below), not for every call alike.
        global: noop,
        // etcd3 calls .next() on it as on a backoff factory, which ExponentialBackoff is; its
        // type declaration says IBackoff.
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: MAX_RELOAD_BACKOFF_MS }) as unknown as IBackoff<unknown>,
      },
    };
    if (options.auth) opts.auth = options.auth;
    if (options.tls) {
      opts.credentials = {
        // Without etcd_cafile, the system's trusted roots (as Node ships them).
        rootCertificate: options.tls.ca ?? Buffer.from(rootCertificates.join("\n")),
        ...(options.tls.cert && options.tls.key ? { certChain: options.tls.cert, privateKey: options.tls.key } : {}),
      };
    }
    this.client = new Etcd3(opts);
    const policy = (op: EtcdOp): RetryPolicy => {
      const p = retry(
        handleWhen((err) => shouldRetry(op, err)),
        { maxAttempts: RETRIES, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }) },
      );
      p.onRetry((r) => this.log.debug({ op, attempt: r.attempt, delayMs: Math.round(r.delay), err: "error" in r ? r.error.message : undefined }, "etcd request retried"));
      return p;
    };
    this.policies = {
      range: policy("range"),
      "txn-idempotent": policy("txn-idempotent"),
      "txn-once": policy("txn-once"),
      "lease-grant": policy("lease-grant"),
      "lease-revoke": policy("lease-revoke"),
      "lease-keepalive": policy("lease-keepalive"),
      "lease-ttl": policy("lease-ttl"),
    };
    this.keepAlives = new LeaseKeepAlives(() => this.client.leaseClient.leaseKeepAlive(), { timeoutMs });
    // A refresh may take up to one request timeout to reach etcd.
    this.deadlines = new LeaseDeadlines(timeoutMs);
  }

  /**
   * True while the watch is connected and the cache has caught up with etcd: only then does the
   * cache follow etcd. False before start() and from a lost watch until the re-read is done.
   */
  get healthy(): boolean {
    return this.isHealthy;
  }

  /** Hears each change of `healthy`; returns the unsubscribe. */
  onHealth(listener: (healthy: boolean, reason: string) => void): () => void {
    this.healthListeners.add(listener);
    return () => this.healthListeners.delete(listener);
  }

  /**
   * Loads every fleet key (waiting for etcd as long as it takes), then follows changes;
   * onChanges gets each committed batch (an empty one too: its revision is news).
   */
  async start(onChanges: ChangeListener): Promise<void> {
    this.onChanges = onChanges;
    const connected = new Promise<void>((resolve) => {
      const off = this.onHealth((healthy) => {
        if (!healthy) return;
        off();
        resolve();
      });
    });
    await this.load(true);
    await connected;
  }

  /** Reads every fleet key, brings the cache to it and watches from the next revision; retries until it can. */
  private async load(initial: boolean): Promise<void> {
    const prefix = Buffer.from(this.keys.prefix);
    const timeoutMs = Math.max(MIN_LOAD_TIMEOUT_MS, 5 * this.options.requestTimeoutMs);
    while (!this.closed) {
      try {
        const res = await this.client.kv.range({ key: prefix, range_end: prefixEnd(prefix) }, { deadline: Date.now() + timeoutMs });
        if (this.closed) return;
        const revision = Number(res.header.revision);
        const read = res.kvs.map((kv) => toEvent("put", kv));
        const changes: CacheChange[] = [];
        for (const event of initial ? read : resyncEvents(this.cache, read, revision)) {
          const change = this.cache.apply(event);
          if (change) changes.push(change);
        }
        // A re-read sets the revision even if it went back (etcd restored from a backup).
        this.cache.revision = revision;
        this.setRevision(revision);
        if (initial) this.log.info({ revision, keys: res.kvs.length }, "registry cache loaded");
        else {
          this.log.info({ revision, keys: res.kvs.length, changed: changes.length }, "registry cache re-read after the watch was lost");
          this.onChanges(changes, revision);
        }
        this.watch(revision + 1);
        return;
      } catch (err) {
        const delayMs = this.reloadDelay();
        this.log.warn({ err: (err as Error).message, retryMs: delayMs }, initial ? "cannot read etcd yet" : "cannot re-read etcd yet");
        await sleep(delayMs);
      }
    }
  }

  /** 100 ms doubling to MAX_RELOAD_BACKOFF_MS, jittered; starts over once a watch connects. */
  private reloadDelay(): number {
    const base = Math.min(MAX_RELOAD_BACKOFF_MS, 100 * 2 ** Math.min(this.reloads++, 10));
    return Math.round(base * (0.5 + Math.random() / 2));
  }

  private watch(startRevision: number): void {
    if (this.closed) return;
    // watcher() rather than create(): the handlers are in place before anything can happen.
    const watcher = this.client.watch().prefix(this.keys.prefix).startRevision(String(startRevision)).watcher();
    this.watcher = watcher;
    let connected = false;
    watcher.on("connected", () => {
      if (this.watcher !== watcher) return;
      connected = true;
      this.reloads = 0;
      this.setHealthy(true, "etcd watch connected");
    });
    watcher.on("data", (data) => {
      if (this.watcher !== watcher) return;
      const changes: CacheChange[] = [];
      for (const ev of data.events) {
        const change = this.cache.apply(toEvent(ev.type === "Delete" ? "delete" : "put", ev.kv));
        if (change) changes.push(change);
      }
      const revision = Number(data.header.revision);
      this.setRevision(revision);
      this.onChanges(changes, revision);
    });
    const lost = (reason: string, err: Error | undefined): void => {
      if (this.watcher !== watcher) return;
      this.watcher = undefined;
      this.log.warn({ err: err?.message, revision: this.cache.revision }, reason);
      this.setHealthy(false, reason);
      watcher.cancel().catch(() => undefined);
      if (this.closed) return;
      // A watch that never connected after a good read: back off before reading everything again.
      if (connected) void this.load(false);
      else void sleep(this.reloadDelay()).then(() => this.load(false));
    };
    watcher.on("disconnected", (err: Error | undefined) => lost("etcd watch disconnected; re-reading etcd", err));
    watcher.on("error", (err: Error) => lost("etcd watch failed; re-reading etcd", err));
  }

  private setHealthy(healthy: boolean, reason: string): void {
    if (this.isHealthy === healthy) return;
    this.isHealthy = healthy;
    if (healthy) this.log.info({ revision: this.cache.revision }, "registry cache follows etcd");
    for (const listener of [...this.healthListeners]) listener(healthy, reason);
  }

  private setRevision(revision: number): void {
    if (revision <= this.cache.revision && this.cache.revision !== 0) return this.release();
    this.cache.revision = revision;
    this.release();
  }

  private release(): void {
    const revision = this.cache.revision;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i];
      if (w && w.revision <= revision) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Resolves once the cache has seen `revision` (or after timeoutMs: reads then are at most that stale). */
  waitForRevision(revision: number, timeoutMs = 2000): Promise<void> {
    if (revision <= this.cache.revision) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push({
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** The newest revision this gateway's own writes reached. */
  lastCommitted = 0;

  /** Runs one etcd request under op's retry policy; failures come out as FleetErrors. */
  private async run<T>(op: EtcdOp, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.policies[op].execute(() => fn());
    } catch (err) {
      throw etcdFailureToFleetError(op, err);
    }
  }

  /**
   * A transaction. "txn-idempotent" ones are retried after any transient failure; "txn-once"
   * ones only when the failed attempt provably never reached etcd.
   */
  async txn(req: ITxnRequest, op: "txn-idempotent" | "txn-once"): Promise<{ succeeded: boolean; revision: number; response: ITxnResponse }> {
    const response = await this.run(op, () => this.client.kv.txn(req));
    const revision = Number(response.header.revision);
    this.lastCommitted = Math.max(this.lastCommitted, revision);
    return { succeeded: response.succeeded, revision, response };
  }

  /** One key as etcd has it now (a linearizable read, not the cache); undefined when absent. */
  async get(key: string): Promise<{ value: string; lease: string; createRevision: number } | undefined> {
    const res = await this.run("range", () => this.client.kv.range({ key: Buffer.from(key) }));
    const kv = res.kvs[0];
    return kv ? { value: kv.value.toString(), lease: String(kv.lease ?? "0"), createRevision: Number(kv.create_revision) } : undefined;
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
  async keepAlive(id: string): Promise<boolean> {
    if (this.deadlines.route(id, performance.now()) === "ask-first") {
      const askedAt = performance.now();
      const left = await this.leaseTimeToLive(id);
      // Expired but not yet revoked reads as TTL ≤ 0: the lease is as good as gone.
      if (!left || left.ttlSeconds <= 0) {
        this.deadlines.forget(id);
        return false;
      }
      this.deadlines.renewed(id, left.ttlSeconds, askedAt);
    }
    const sentAt = performance.now();
    const ttl = await this.run("lease-keepalive", () => this.keepAlives.keepAlive(id));
    this.deadlines.renewed(id, ttl, sentAt);
    return ttl > 0;
  }

  /** A lease's remaining and granted TTL in seconds; undefined when etcd has no such lease. */
  async leaseTimeToLive(id: string): Promise<{ ttlSeconds: number; grantedSeconds: number } | undefined> {
    const res = await this.run("lease-ttl", () => this.client.leaseClient.leaseTimeToLive({ ID: id }));
    const ttl = Number(res.TTL);
    return ttl < 0 ? undefined : { ttlSeconds: ttl, grantedSeconds: Number(res.grantedTTL) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.keepAlives.close();
    this.client.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function toEvent(type: "put" | "delete", kv: IKeyValue): KeyValueEvent {
  return {
    type,
    key: kv.key.toString(),
    value: type === "put" ? kv.value.toString() : "",
    modRevision: Number(kv.mod_revision),
    createRevision: Number(kv.create_revision),
    lease: String(kv.lease ?? "0"),
  };
}

export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] ?? 0) < 0xff) {
      end[i] = (end[i] ?? 0) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

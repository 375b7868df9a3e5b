// The only code that talks to etcd: a range read plus a watch that keep the RegistryCache
// current, transactions for writes, and leases. Each remote call has a deadline.
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry, type IBackoff } from "cockatiel";
import { Etcd3, isRecoverableError, type IKeyValue, type ITxnRequest, type ITxnResponse, type IOptions } from "etcd3";
import type { Logger } from "@fleet/wire";
import { RegistryCache, type CacheChange, type KeyValueEvent } from "./registry-cache.js";
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

export class EtcdStore {
  private readonly client: Etcd3;
  private readonly waiters: Array<{ revision: number; resolve: () => void }> = [];
  private closed = false;

  constructor(
    private readonly keys: Keys,
    readonly cache: RegistryCache,
    private readonly options: EtcdStoreOptions,
    private readonly log: Logger,
  ) {
    const opts: IOptions = { hosts: [...options.hosts], dialTimeout: options.requestTimeoutMs, faultHandling: faultHandling() };
    if (options.auth) opts.auth = options.auth;
    if (options.tls) {
      opts.credentials = {
        // Without etcd_cafile, the system's trusted roots (as Node ships them).
        rootCertificate: options.tls.ca ?? Buffer.from(rootCertificates.join("\n")),
        ...(options.tls.cert && options.tls.key ? { certChain: options.tls.cert, privateKey: options.tls.key } : {}),
      };
    }
    this.client = new Etcd3(opts);
  }

  private get deadline(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.options.requestTimeoutMs) };
  }

  /** Loads every fleet key, then follows changes; onChanges gets each committed batch. */
  async start(onChanges: (changes: CacheChange[], revision: number) => void): Promise<void> {
    const prefix = Buffer.from(this.keys.prefix);
    const res = await this.client.kv.range({ key: prefix, range_end: prefixEnd(prefix) }, this.deadline);
    for (const kv of res.kvs) this.cache.apply(toEvent("put", kv));
    this.setRevision(Number(res.header.revision));
    this.log.info({ revision: this.cache.revision, keys: res.kvs.length }, "registry cache loaded");
    const watcher = await this.client
      .watch()
      .prefix(this.keys.prefix)
      .startRevision(String(this.cache.revision + 1))
      .create();
    watcher.on("data", (data) => {
      const changes: CacheChange[] = [];
      for (const ev of data.events) {
        const change = this.cache.apply(toEvent(ev.type === "Delete" ? "delete" : "put", ev.kv));
        if (change) changes.push(change);
      }
      const revision = Number(data.header.revision);
      this.setRevision(revision);
      if (changes.length > 0) onChanges(changes, revision);
    });
    watcher.on("error", (err) => this.log.error({ err: err.message }, "etcd watch error"));
    watcher.on("disconnected", () => this.log.warn("etcd watch disconnected; reconnecting"));
    watcher.on("connected", () => this.log.info("etcd watch connected"));
  }

  private setRevision(revision: number): void {
    if (revision <= this.cache.revision && this.cache.revision !== 0) return;
    this.cache.revision = revision;
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

  async txn(req: ITxnRequest): Promise<{ succeeded: boolean; revision: number; response: ITxnResponse }> {
    const response = await this.client.kv.txn(req, this.deadline);
    const revision = Number(response.header.revision);
    this.lastCommitted = Math.max(this.lastCommitted, revision);
    return { succeeded: response.succeeded, revision, response };
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    const res = await this.client.leaseClient.leaseGrant({ TTL: ttlSeconds }, this.deadline);
    return res.ID;
  }

  async revokeLease(id: string): Promise<void> {
    await this.client.leaseClient.leaseRevoke({ ID: id }, this.deadline).catch(() => undefined);
  }

  /** Refreshes a lease; false when etcd says it no longer exists. */
  async keepAlive(id: string): Promise<boolean> {
    const stream = await this.client.leaseClient.leaseKeepAlive(this.deadline);
    try {
      const ttl = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("lease keepalive timed out")), this.options.requestTimeoutMs);
        stream.on("data", (res: { TTL: string }) => {
          clearTimeout(timer);
          resolve(Number(res.TTL));
        });
        stream.on("error", (err: Error) => {
          clearTimeout(timer);
          reject(err);
        });
        stream.write({ ID: id });
      });
      return ttl > 0;
    } finally {
      stream.end();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
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

/**
 * How the etcd client rides out an etcd restart: a failing member is skipped for 1 s (not
 * etcd3's default 5 s, which outlasts a restart), a failed call is retried on the next member
 * with a short jittered backoff, and the watch reconnects within 2 s (not up to 30 s), so the
 * cache that serves every read catches up at once.
 */
function faultHandling(): IOptions["faultHandling"] {
  const recoverable = handleWhen(isRecoverableError);
  // Retries also wait out a member's open circuit: 5 attempts back off for about 1.5 s in all.
  const retryable = handleWhen((err) => isRecoverableError(err) || err instanceof BrokenCircuitError);
  return {
    host: () => circuitBreaker(recoverable, { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(3) }),
    global: retry(retryable, { maxAttempts: 5, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }) }),
    // etcd3 calls .next() on it as on a backoff factory, which ExponentialBackoff is; its type
    // declaration says IBackoff.
    watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }) as unknown as IBackoff<unknown>,
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

// Keeps the RegistryCache current: reads every fleet key, then watches from the next revision.
// When the watch is lost, the cache is unhealthy until every key has been re-read and a new
// watch from that revision is connected: listeners (WatchCluster) hear both edges. Waiters for a
// revision are released as the cache reaches it.
import type { Etcd3, IKeyValue, Watcher } from "etcd3";
import type { Logger } from "@fleet/wire";
import { MAX_RELOAD_BACKOFF_MS } from "./etcd-client.js";
import type { Keys } from "./keys.js";
import { resyncEvents, type CacheChange, type KeyValueEvent, type RegistryCache } from "./registry-cache.js";

/** A full read of every fleet key may take longer than one small request. */
const MIN_LOAD_TIMEOUT_MS = 5_000;

/** A committed batch: what it changed in the cache, its revision, and (read on demand: most
 * batches never need them) the etcd keys it wrote. */
export type ChangeListener = (changes: CacheChange[], revision: number, keys: () => readonly string[]) => void;

export class CacheFollower {
  private readonly waiters: Array<{ revision: number; resolve: () => void }> = [];
  private readonly healthListeners = new Set<(healthy: boolean, reason: string) => void>();
  private onChanges: ChangeListener = () => undefined;
  private watcher: Watcher | undefined;
  /** Re-reads since the watch was last connected: their backoff grows until one connects. */
  private reloads = 0;
  private isHealthy = false;
  private closed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: Keys,
    readonly cache: RegistryCache,
    private readonly requestTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  get healthy(): boolean {
    return this.isHealthy;
  }

  /** Hears each change of `healthy`; returns the unsubscribe. */
  onHealth(listener: (healthy: boolean, reason: string) => void): () => void {
    this.healthListeners.add(listener);
    return () => this.healthListeners.delete(listener);
  }

  /** Loads every fleet key (waiting for etcd as long as it takes), then follows changes. */
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
    const timeoutMs = Math.max(MIN_LOAD_TIMEOUT_MS, 5 * this.requestTimeoutMs);
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
          this.onChanges(changes, revision, () => []);
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
      this.onChanges(changes, revision, () => data.events.map((ev) => ev.kv.key.toString()));
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

  close(): void {
    this.closed = true;
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

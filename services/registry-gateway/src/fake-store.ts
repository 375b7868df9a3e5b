// An in-memory RegistryStore for the record kinds' unit tests: etcd's transaction rules
// (compares on create/mod revision, lease and value; puts under leases; deletes; range reads on
// failure), one revision per write, leases that take their keys with them, and a watch cache
// that follows every write at once.
import type { ICompare, IKeyValue, IRequestOp, IResponseOp, ITxnRequest, ITxnResponse } from "etcd3";
import type { Keys } from "./keys.js";
import { writtenKey } from "./etcd-ops.js";
import { RegistryCache } from "./registry-cache.js";
import type { RegistryStore, TxnResult } from "./registry-store.js";

interface Stored {
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly lease: string;
}

export class FakeStore implements RegistryStore {
  readonly cache: RegistryCache;
  lastCommitted = 0;
  private revision = 1;
  private readonly kvs = new Map<string, Stored>();
  private readonly leases = new Map<string, { ttlSeconds: number }>();
  private nextLease = 1000;
  /** Every transaction sent, with how it was sent. */
  readonly txns: Array<{ req: ITxnRequest; op: "txn-idempotent" | "txn-once"; succeeded: boolean }> = [];
  /** Called before each transaction is applied: a test's concurrent writer. */
  beforeTxn: (n: number) => void = () => undefined;

  constructor(keys: Keys) {
    this.cache = new RegistryCache(keys);
    this.cache.revision = this.revision;
  }

  /** A key's value as stored, or undefined. */
  value(key: string): string | undefined {
    return this.kvs.get(key)?.value;
  }

  /** Writes a key as another client would (under a lease, optionally). */
  put(key: string, value: unknown, lease = "0"): number {
    this.revision++;
    this.write(key, typeof value === "string" ? value : JSON.stringify(value), lease);
    return this.commit();
  }

  /** Expires a lease as etcd would after its TTL: the lease and its keys are gone. */
  expire(leaseId: string): void {
    this.leases.delete(leaseId);
    const gone = [...this.kvs].filter(([, kv]) => kv.lease === leaseId).map(([key]) => key);
    if (gone.length === 0) return;
    this.revision++;
    for (const key of gone) this.remove(key);
    this.commit();
  }

  hasLease(leaseId: string): boolean {
    return this.leases.has(leaseId);
  }

  async waitForRevision(): Promise<void> {}

  async txn(req: ITxnRequest, op: "txn-idempotent" | "txn-once"): Promise<TxnResult> {
    this.beforeTxn(this.txns.length);
    for (const branch of [req.success ?? [], req.failure ?? []]) {
      const written = branch.map(writtenKey).filter((k) => k !== undefined);
      // As etcd, which refuses such a transaction whole.
      if (new Set(written).size < written.length) throw new Error("etcdserver: duplicate key given in txn request");
    }
    const succeeded = (req.compare ?? []).every((c) => this.holds(c));
    const requests = (succeeded ? req.success : req.failure) ?? [];
    const writes = requests.some((r) => r.request_put || r.request_delete_range);
    if (writes) this.revision++;
    const responses = requests.map((r) => this.apply(r));
    if (writes) this.commit();
    this.txns.push({ req, op, succeeded });
    const response = { header: { revision: String(this.revision) }, succeeded, responses } as unknown as ITxnResponse;
    return { succeeded, revision: this.revision, response };
  }

  async get(key: string): Promise<{ value: string; lease: string; createRevision: number } | undefined> {
    const kv = this.kvs.get(key);
    return kv ? { value: kv.value, lease: kv.lease, createRevision: kv.createRevision } : undefined;
  }

  async getPrefix(prefix: string, limit: number, last = false): Promise<Array<{ key: string; value: string }>> {
    const all = [...this.kvs].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, kv]) => ({ key, value: kv.value }));
    if (limit <= 0 || all.length <= limit) return all;
    return last ? all.slice(all.length - limit) : all.slice(0, limit);
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    const id = String(this.nextLease++);
    this.leases.set(id, { ttlSeconds });
    return id;
  }

  async revokeLease(id: string): Promise<void> {
    this.expire(id);
  }

  async keepAlive(id: string, _mustLiveMs?: number): Promise<boolean> {
    return this.leases.has(id);
  }

  leaseExpiresAt(_id: string): number | undefined {
    return undefined;
  }

  async leaseTimeToLive(id: string): Promise<{ ttlSeconds: number; grantedSeconds: number } | undefined> {
    const lease = this.leases.get(id);
    return lease ? { ttlSeconds: lease.ttlSeconds, grantedSeconds: lease.ttlSeconds } : undefined;
  }

  private holds(c: ICompare): boolean {
    const kv = this.kvs.get(c.key?.toString() ?? "");
    const actual = ((): string | number => {
      switch (c.target) {
        case "Create":
          return kv?.createRevision ?? 0;
        case "Mod":
          return kv?.modRevision ?? 0;
        case "Lease":
          return Number(kv?.lease ?? 0);
        case "Value":
          return kv?.value ?? "";
        default:
          throw new Error(`fake store: compare target ${String(c.target)} not supported`);
      }
    })();
    // etcd: a value compare on a missing key always fails.
    if (c.target === "Value" && !kv) return false;
    const expected = c.target === "Create" ? Number(c.create_revision) : c.target === "Mod" ? Number(c.mod_revision) : c.target === "Lease" ? Number(c.lease) : (c.value?.toString() ?? "");
    if (c.result === "Equal" || c.result === undefined) return actual === expected;
    if (c.result === "Greater") return actual > expected;
    if (c.result === "Less") return actual < expected;
    if (c.result === "NotEqual") return actual !== expected;
    throw new Error(`fake store: compare result ${String(c.result)} not supported`);
  }

  private apply(r: IRequestOp): Partial<IResponseOp> {
    if (r.request_put) {
      const key = r.request_put.key?.toString() ?? "";
      const lease = String(r.request_put.lease ?? "0");
      if (lease !== "0" && !this.leases.has(lease)) throw new Error(`etcdserver: requested lease not found (${lease})`);
      const prev = this.kvs.get(key);
      this.write(key, r.request_put.value?.toString() ?? "", lease);
      return { response_put: { prev_kv: r.request_put.prev_kv && prev ? toKv(key, prev) : undefined } as IResponseOp["response_put"] };
    }
    if (r.request_delete_range) {
      this.remove(r.request_delete_range.key?.toString() ?? "");
      return { response_delete_range: {} as IResponseOp["response_delete_range"] };
    }
    if (r.request_range) {
      const key = r.request_range.key?.toString() ?? "";
      const kv = this.kvs.get(key);
      return { response_range: { kvs: kv ? [toKv(key, kv)] : [] } as unknown as IResponseOp["response_range"] };
    }
    throw new Error("fake store: request not supported");
  }

  private pending: Array<{ type: "put" | "delete"; key: string; kv?: Stored }> = [];

  private write(key: string, value: string, lease: string): void {
    const prev = this.kvs.get(key);
    const kv = { value, lease, createRevision: prev?.createRevision ?? this.revision, modRevision: this.revision };
    this.kvs.set(key, kv);
    this.pending.push({ type: "put", key, kv });
  }

  private remove(key: string): void {
    if (!this.kvs.delete(key)) return;
    this.pending.push({ type: "delete", key });
  }

  /** The watch: the cache sees this revision's changes at once. */
  private commit(): number {
    for (const p of this.pending) {
      this.cache.apply({
        type: p.type,
        key: p.key,
        value: p.kv?.value ?? "",
        modRevision: p.kv?.modRevision ?? this.revision,
        createRevision: p.kv?.createRevision ?? 0,
        lease: p.kv?.lease ?? "0",
      });
    }
    this.pending = [];
    this.cache.revision = this.revision;
    this.lastCommitted = Math.max(this.lastCommitted, this.revision);
    return this.revision;
  }
}

function toKv(key: string, kv: Stored): IKeyValue {
  return { key: Buffer.from(key), value: Buffer.from(kv.value), create_revision: String(kv.createRevision), mod_revision: String(kv.modRevision), version: "1", lease: kv.lease };
}

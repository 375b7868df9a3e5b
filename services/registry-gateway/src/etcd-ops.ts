// Builders for the etcd requests the record kinds send, and the one loop that writes a large
// batch as several transactions under the same compares (a fenced batch).
import type { ICompare, IKeyValue, IRequestOp } from "etcd3";
import type { RegistryStore, TxnResult } from "./registry-store.js";

/** etcd's default --max-txn-ops is 128: larger batches are split, each part fenced alike. */
export const MAX_TXN_OPS = 100;

export const b = (s: string): Buffer => Buffer.from(s);

export const put = (key: string, value: unknown, lease?: string): IRequestOp => ({
  request_put: { key: b(key), value: b(typeof value === "string" ? value : JSON.stringify(value)), ...(lease ? { lease } : {}) },
});
export const del = (key: string): IRequestOp => ({ request_delete_range: { key: b(key) } });
export const range = (key: string): IRequestOp => ({ request_range: { key: b(key) } });

/** The key was created at `rev` (0: the key does not exist). */
export const created = (key: string, rev: number): ICompare => ({ key: b(key), target: "Create", result: "Equal", create_revision: rev });
export const exists = (key: string): ICompare => ({ key: b(key), target: "Create", result: "Greater", create_revision: 0 });
export const modified = (key: string, rev: number): ICompare => ({ key: b(key), target: "Mod", result: "Equal", mod_revision: rev });
export const leased = (key: string, lease: string): ICompare => ({ key: b(key), target: "Lease", result: "Equal", lease });
export const valueIs = (key: string, value: string): ICompare => ({ key: b(key), target: "Value", result: "Equal", value: b(value) });

/** The key an operation writes (a put's, or a delete's first key); undefined for a read. */
export function writtenKey(op: IRequestOp): string | undefined {
  return (op.request_put?.key ?? op.request_delete_range?.key)?.toString();
}

/** The first key-value a failed transaction's `index`th range read found, if any. */
export function rangeResult(res: TxnResult, index: number): IKeyValue | undefined {
  return res.response.responses[index]?.response_range?.kvs[0];
}

/**
 * Bytes one transaction may carry: etcd refuses requests over its --max-request-bytes (1.5 MiB
 * by default) with "request is too large".
 */
export const MAX_TXN_BYTES = 1024 * 1024;

/** items in slices of at most `size` items and (by `bytes` of each) MAX_TXN_BYTES; an item larger than that alone. */
export function chunksBySize<T>(items: readonly T[], bytes: (item: T) => number, size = MAX_TXN_OPS): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const item of items) {
    const n = bytes(item);
    if (current.length > 0 && (current.length >= size || total + n > MAX_TXN_BYTES)) {
      out.push(current);
      current = [];
      total = 0;
    }
    current.push(item);
    total += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** items in slices of at most `size`. */
export function chunks<T>(items: readonly T[], size = MAX_TXN_OPS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface FencedBatch {
  /** Compared in every chunk's transaction. */
  readonly compare: ICompare[];
  readonly ops: readonly IRequestOp[];
  /** Read in a chunk's transaction when its compares fail (for refused() to tell why). */
  readonly failure?: IRequestOp[];
  readonly op: "txn-idempotent" | "txn-once";
  /** The error for a chunk whose compares failed; `written` ops were written before it. */
  readonly refused: (res: TxnResult, written: number) => Error;
}

/**
 * Writes ops in chunks of MAX_TXN_OPS, each one transaction under the same compares; stops at
 * the first chunk whose compares fail, with refused()'s error. Returns the last chunk's revision
 * (the cache's revision when there is nothing to write).
 */
export async function writeFencedBatch(store: RegistryStore, batch: FencedBatch): Promise<number> {
  let revision = store.cache.revision;
  let written = 0;
  for (const chunk of chunks(batch.ops)) {
    const res = await store.txn({ compare: batch.compare, success: chunk, ...(batch.failure ? { failure: batch.failure } : {}) }, batch.op);
    if (!res.succeeded) throw batch.refused(res, written);
    revision = res.revision;
    written += chunk.length;
  }
  return revision;
}

/**
 * A read of the cache that, when it misses, waits for this gateway's own writes to show and
 * reads again: so a record written here can be changed here at once.
 */
export async function cachedRead<T>(store: RegistryStore, read: () => T | undefined): Promise<T | undefined> {
  const hit = read();
  if (hit !== undefined) return hit;
  await store.waitForRevision(store.lastCommitted);
  return read();
}

// Small fenced writes of many callers shared in few transactions, as a database's group commit:
//
//   write(batch) ─> queue ─┐  while no flush is in flight (else after it: the queue grows
//                          │  with the load, and so do the transactions)
//                          └─> groups of writes on distinct keys, ≤ MAX_TXN_OPS ops and
//                              compares each ─> one transaction per group, all compares ANDed
//                                 succeeded: every write in it is done at that revision
//                                 a compare failed: each write of the group again, alone
//                                   (writeFencedBatch), so only the fenced-off one fails
//                                 etcd failed: every write of the group fails with its error
//
// A thousand agents reporting their units' states cost etcd, the watch and everyone following
// it a few transactions instead of a thousand. A write that touches a key an earlier queued
// write touches waits for the next flush: one caller's writes are applied in their order. A
// shared transaction is no one request's (it is sent outside any request scope); a write sent
// alone is sent in its caller's.
import type { ICompare, IRequestOp } from "etcd3";
import { currentRequestId, withRequestId } from "@fleet/wire";
import { MAX_TXN_OPS, writeFencedBatch, writtenKey, type FencedBatch } from "./etcd-ops.js";
import type { RegistryStore } from "./registry-store.js";

interface Pending {
  readonly batch: FencedBatch;
  readonly requestId: string | undefined;
  readonly keys: readonly string[];
  /** The operations, or compares, it adds to a transaction (etcd bounds each). */
  readonly size: number;
  readonly resolve: (revision: number) => void;
  readonly reject: (err: unknown) => void;
}

/** Keys a write compares or writes. Pure. */
function keysOf(compare: readonly ICompare[], ops: readonly IRequestOp[]): string[] {
  return [...compare.map((c) => String(c.key)), ...ops.flatMap((o) => writtenKey(o) ?? [])];
}

/**
 * The writes of one flush, in queue order: groups of writes on distinct keys within the size
 * limits, and the writes left for the next flush (they touch a key of an earlier write). Pure.
 */
export function groupWrites<T extends { readonly keys: readonly string[]; readonly size: number }>(queue: readonly T[], maxOps = MAX_TXN_OPS): { groups: T[][]; later: T[] } {
  const groups: T[][] = [];
  const later: T[] = [];
  const taken = new Set<string>();
  let group: T[] = [];
  let size = 0;
  for (const w of queue) {
    if (w.keys.some((k) => taken.has(k))) {
      later.push(w);
      for (const k of w.keys) taken.add(k);
      continue;
    }
    for (const k of w.keys) taken.add(k);
    if (group.length > 0 && size + w.size > maxOps) {
      groups.push(group);
      group = [];
      size = 0;
    }
    group.push(w);
    size += w.size;
  }
  if (group.length > 0) groups.push(group);
  return { groups, later };
}

export class FencedWriteBatcher {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly store: RegistryStore,
    private readonly maxOps = MAX_TXN_OPS,
  ) {}

  /** Writes the batch, in a transaction shared with others when it fits one; its revision. */
  write(batch: FencedBatch): Promise<number> {
    // A batch larger than a transaction still queues (as a group of its own, written in chunks):
    // it stays in order with the same caller's other writes.
    if (batch.op !== "txn-idempotent" || batch.failure) return writeFencedBatch(this.store, batch);
    return new Promise<number>((resolve, reject) => {
      const size = Math.max(batch.ops.length, batch.compare.length);
      this.queue.push({ batch, requestId: currentRequestId(), keys: keysOf(batch.compare, batch.ops), size, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        withRequestId(undefined, () => setImmediate(() => void this.flush()));
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const { groups, later } = groupWrites(this.queue, this.maxOps);
      this.queue = later;
      await Promise.all(groups.map((g) => this.run(g)));
    }
    this.flushing = false;
  }

  private async run(group: readonly Pending[]): Promise<void> {
    if (group.length === 1) return this.alone(group[0]!);
    let succeeded: boolean;
    let revision = 0;
    try {
      const res = await this.store.txn({ compare: group.flatMap((p) => p.batch.compare), success: group.flatMap((p) => [...p.batch.ops]) }, "txn-idempotent");
      succeeded = res.succeeded;
      revision = res.revision;
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    if (succeeded) for (const p of group) p.resolve(revision);
    else await Promise.all(group.map((p) => this.alone(p)));
  }

  private alone(p: Pending): Promise<void> {
    return withRequestId(p.requestId, () => writeFencedBatch(this.store, p.batch)).then(p.resolve, p.reject);
  }
}

// Which request made a batch the watch delivers: the watch runs outside the request, so the
// gateway notes each write's request id, and the hints and WatchCluster carry it on
// (request-scope.ts). Deterministic whichever of the two answers first:
//   - the write's answer first: its revision is noted (bounded: the latest `max` revisions);
//   - the watch first: the write is still in flight, and its keys name the request.
// A batch another gateway wrote, or a write made outside any request, has none.
import type { ITxnRequest } from "etcd3";
import { writtenKey } from "./etcd-ops.js";

/** A key a write changes, or (a range delete) every key under it. */
export interface WrittenKey {
  readonly key: string;
  readonly prefix: boolean;
}

export interface WriteInFlight {
  readonly keys: readonly WrittenKey[];
  readonly requestId: string;
}

export class RevisionRequests {
  private readonly byRevision = new Map<number, string>();
  private readonly inFlight = new Set<WriteInFlight>();

  constructor(private readonly max = 4096) {}

  /** Transaction `req` goes out for `requestId`; pass the result to settled once it answered or failed. */
  begin(req: ITxnRequest, requestId: string | undefined): WriteInFlight | undefined {
    if (requestId === undefined) return undefined;
    const keys = keysWritten(req);
    if (keys.length === 0) return undefined;
    const write = { keys, requestId };
    this.inFlight.add(write);
    return write;
  }

  /** The write answered: committed at `revision`, or wrote nothing (undefined). */
  settled(write: WriteInFlight | undefined, revision?: number): void {
    if (write === undefined) return;
    this.inFlight.delete(write);
    if (revision !== undefined) this.note(revision, write.requestId);
  }

  note(revision: number, requestId: string | undefined): void {
    if (requestId === undefined) return;
    this.byRevision.set(revision, requestId);
    if (this.byRevision.size > this.max) {
      const oldest = this.byRevision.keys().next().value;
      if (oldest !== undefined) this.byRevision.delete(oldest);
    }
  }

  /** The request that wrote `revision`, if this gateway's write of it has answered. */
  at(revision: number): string | undefined {
    return this.byRevision.get(revision);
  }

  /** The request of a batch at `revision` changing `keys`: noted, or a write of one of them still in flight. */
  of(revision: number, keys: () => readonly string[]): string | undefined {
    const noted = this.at(revision);
    if (noted !== undefined || this.inFlight.size === 0) return noted;
    const batch = keys();
    const changed = new Set(batch);
    const writes = (w: WrittenKey) => (w.prefix ? batch.some((k) => k.startsWith(w.key)) : changed.has(w.key));
    let found: string | undefined;
    // The newest write in flight of one of the keys (a Set iterates in insertion order).
    for (const write of this.inFlight) if (write.keys.some(writes)) found = write.requestId;
    return found;
  }
}

/** The keys a transaction writes if it succeeds (its puts and deletes). */
function keysWritten(req: ITxnRequest): WrittenKey[] {
  const keys: WrittenKey[] = [];
  for (const op of req.success ?? []) {
    const key = writtenKey(op);
    const rangeEnd = op.request_delete_range?.range_end;
    if (key !== undefined) keys.push({ key, prefix: rangeEnd !== undefined && rangeEnd.length > 0 });
  }
  return keys;
}

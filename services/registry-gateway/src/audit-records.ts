// The audit log in etcd (audit/<ms>-<rand>): one entry per change made through the api, kept
// for the retention window. Entries share one lease per hour of writes (granted for the
// window plus that hour), so etcd holds a few leases, not one per entry.
import { randomBytes } from "node:crypto";
import { FleetError } from "@fleet/domain";
import type { AuditEntry } from "@fleet/wire";
import { chunksBySize, put } from "./etcd-ops.js";
import type { Keys } from "./keys.js";
import type { RegistryStore } from "./registry-store.js";

const HOUR_MS = 3600_000;
/** Entries one ListAudit returns at most. */
export const MAX_AUDIT_LIST = 10_000;
/** Longest text field of an entry, in characters. */
const MAX_FIELD = 1024;

function clip(s: string): string {
  return s.length > MAX_FIELD ? `${s.slice(0, MAX_FIELD - 1)}…` : s;
}

export class AuditRecords {
  private lease: { hour: number; id: string } | undefined;

  constructor(
    private readonly store: RegistryStore,
    private readonly keys: Keys,
    /** How long entries are kept, in seconds. */
    private readonly retentionSeconds: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  private async leaseFor(atMs: number): Promise<string> {
    const hour = Math.floor(atMs / HOUR_MS);
    if (this.lease?.hour === hour) return this.lease.id;
    const id = await this.store.grantLease(this.retentionSeconds + 3600);
    this.lease = { hour, id };
    return id;
  }

  /** Stores the entries, as few transactions as etcd's limits allow (a request's entries together). */
  async append(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length > MAX_AUDIT_LIST) throw new FleetError("resource-exhausted", `at most ${MAX_AUDIT_LIST} audit entries per request, not ${entries.length}`);
    if (entries.some((e) => !e.action)) throw new FleetError("invalid-argument", "an audit entry needs an action");
    const now = this.nowMs();
    const ops = entries.map((entry) => {
      const atMs = entry.atMs > 0 ? entry.atMs : now;
      const stored: AuditEntry = { ...entry, atMs, who: clip(entry.who), detail: clip(entry.detail), unit: clip(entry.unit), requestId: clip(entry.requestId) };
      return { key: this.keys.audit(atMs, randomBytes(4).toString("hex")), stored, atMs };
    });
    try {
      for (const chunk of chunksBySize(ops, (o) => o.key.length + JSON.stringify(o.stored).length)) {
        const lease = await this.leaseFor(chunk[0]?.atMs ?? now);
        await this.store.txn({ success: chunk.map((o) => put(o.key, o.stored, lease)) }, "txn-idempotent");
      }
    } catch (err) {
      // The hour's lease may be gone (etcd restored, or revoked): the next append takes a new one.
      this.lease = undefined;
      throw err;
    }
  }

  /** Entries from sinceMs on, oldest first; of one unit when `unit` is set; the newest `limit`. */
  async list(sinceMs: number, unit: string, limit: number): Promise<AuditEntry[]> {
    const want = Math.min(limit > 0 ? limit : 1000, MAX_AUDIT_LIST);
    // The newest entries first read, enough of them to find `want` of one unit.
    const kvs = await this.store.getPrefix(this.keys.audits(), unit ? MAX_AUDIT_LIST : want, true);
    const entries = kvs.flatMap((kv) => {
      try {
        return [JSON.parse(kv.value) as AuditEntry];
      } catch {
        return [];
      }
    });
    const kept = entries.filter((e) => e.atMs >= sinceMs && (unit === "" || e.unit === unit));
    return kept.slice(Math.max(0, kept.length - want));
  }
}

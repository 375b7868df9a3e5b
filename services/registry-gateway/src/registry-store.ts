// The slice of the etcd store the registry's record kinds use: transactions, one-key reads,
// leases, and the watch cache with its revision. EtcdStore implements it over etcd;
// fake-store.ts in memory, for the record kinds' unit tests.
import type { ITxnRequest, ITxnResponse } from "etcd3";
import type { RegistryCache } from "./registry-cache.js";

export interface TxnResult {
  readonly succeeded: boolean;
  readonly revision: number;
  readonly response: ITxnResponse;
}

export interface RegistryStore {
  /** The watch cache: what reads answer from. */
  readonly cache: RegistryCache;
  /** The newest revision this gateway's own writes reached. */
  readonly lastCommitted: number;
  /** Resolves once the cache has seen `revision` (or after a short wait: reads then are at most that stale). */
  waitForRevision(revision: number): Promise<void>;
  /**
   * A transaction. "txn-idempotent" ones may be re-sent after a transient failure; "txn-once"
   * ones only when the failed attempt provably never reached etcd.
   */
  txn(req: ITxnRequest, op: "txn-idempotent" | "txn-once"): Promise<TxnResult>;
  /** One key as etcd has it now (not the cache); undefined when absent. */
  get(key: string): Promise<{ value: string; lease: string; createRevision: number } | undefined>;
  /** The keys under `prefix` as etcd has them now, in key order; at most `limit` (0: all), the last ones when `last`. */
  getPrefix(prefix: string, limit: number, last?: boolean): Promise<Array<{ key: string; value: string }>>;
  grantLease(ttlSeconds: number): Promise<string>;
  /** Revokes a lease (one that no longer exists counts as revoked); never throws. */
  revokeLease(id: string): Promise<void>;
  /**
   * Refreshes a lease; false when it no longer exists. With `mustLiveMs`, a lease known to live
   * at least that long from now is not refreshed (true at once).
   */
  keepAlive(id: string, mustLiveMs?: number): Promise<boolean>;
  /** The earliest a lease can expire, as far as this gateway knows (performance.now ms); undefined when unknown. */
  leaseExpiresAt(id: string): number | undefined;
  /** A lease's remaining and granted TTL in seconds; undefined when there is no such lease. */
  leaseTimeToLive(id: string): Promise<{ ttlSeconds: number; grantedSeconds: number } | undefined>;
}

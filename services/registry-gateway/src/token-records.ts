// API tokens in etcd (token/<id>): made and revoked by the api, read by it on every request
// from etcd itself, not the cache, so that a revocation through any api replica holds on the
// next request everywhere. A token that lapses is under an etcd lease of its TTL.
import { assertUnitGlobs, FleetError, isTokenId, parseRole } from "@fleet/domain";
import { TokenRecord, type TokenInfo } from "@fleet/wire";
import { created, del, put } from "./etcd-ops.js";
import type { Keys } from "./keys.js";
import type { RegistryStore } from "./registry-store.js";

/** Longest TTL a token may have: 10 years. */
const MAX_TOKEN_TTL_SECONDS = 10 * 365 * 24 * 3600;

function assertTokenId(id: string): void {
  if (!isTokenId(id)) throw new FleetError("invalid-argument", `invalid token id ${JSON.stringify(id)}: expected 12 hex digits`);
}

function decode(value: string): TokenRecord | undefined {
  try {
    const r = TokenRecord.fromPartial(JSON.parse(value) as Partial<TokenRecord>);
    return r.info && r.secretHash !== "" ? r : undefined;
  } catch {
    return undefined;
  }
}

export class TokenRecords {
  constructor(
    private readonly store: RegistryStore,
    private readonly keys: Keys,
  ) {}

  async put(token: TokenRecord, ttlSeconds: number): Promise<number> {
    const info = token.info;
    if (!info) throw new FleetError("invalid-argument", "token is required");
    assertTokenId(info.id);
    parseRole(info.role);
    assertUnitGlobs(info.units);
    if (!/^[0-9a-f]{64}$/.test(token.secretHash)) throw new FleetError("invalid-argument", "secret_hash must be 64 hex digits (SHA-256)");
    if (!(Number.isInteger(ttlSeconds) && ttlSeconds >= 0 && ttlSeconds <= MAX_TOKEN_TTL_SECONDS)) {
      throw new FleetError("invalid-argument", `ttl must be between 0 (never lapses) and ${MAX_TOKEN_TTL_SECONDS} seconds`);
    }
    const key = this.keys.token(info.id);
    const lease = ttlSeconds > 0 ? await this.store.grantLease(ttlSeconds) : undefined;
    const res = await this.store.txn({ compare: [created(key, 0)], success: [put(key, token, lease)] }, "txn-once");
    if (!res.succeeded) {
      if (lease) await this.store.revokeLease(lease);
      throw new FleetError("already-exists", `token ${info.id} already exists`);
    }
    return res.revision;
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    if (!isTokenId(id)) return undefined;
    const kv = await this.store.get(this.keys.token(id));
    return kv ? decode(kv.value) : undefined;
  }

  async list(): Promise<TokenInfo[]> {
    const kvs = await this.store.getPrefix(this.keys.tokens(), 0);
    return kvs.flatMap((kv) => {
      const r = decode(kv.value);
      return r?.info ? [r.info] : [];
    });
  }

  async delete(id: string): Promise<{ deleted: boolean; revision: number }> {
    assertTokenId(id);
    const kv = await this.store.get(this.keys.token(id));
    const res = await this.store.txn({ success: [del(this.keys.token(id))] }, "txn-idempotent");
    if (kv && kv.lease !== "0") await this.store.revokeLease(kv.lease);
    return { deleted: kv !== undefined, revision: res.revision };
  }
}

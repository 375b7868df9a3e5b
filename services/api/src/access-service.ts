// FleetService's tokens and audit log (admin only): tokens are made here (their secret shown
// once, stored hashed in the registry), listed without secrets, revoked by id or secret.
import { randomBytes } from "node:crypto";
import {
  assertAllowed,
  assertUnitGlobs,
  inScope,
  formatTokenSecret,
  isTokenId,
  parseRole,
  tokenIdOfSecret,
  type Principal,
} from "@fleet/domain";
import { FleetError, unary, unaryHandler, unaryWrite, type FleetServiceServer, type Logger, type RegistryServiceClient, type RequestContext } from "@fleet/wire";
import type { AuditLog } from "./auth/audit-log.js";
import { sha256Hex } from "./auth/authenticator.js";

type AccessMethods = Pick<FleetServiceServer, "createToken" | "listTokens" | "revokeToken" | "listAudit">;

/** Only an admin not limited to units manages tokens: a scoped one could make itself a wider token. */
function assertTokenAdmin(who: Principal, what: string): void {
  assertAllowed(who, "admin", what);
  if (who.units.length > 0) throw new FleetError("permission-denied", `${who.id} may not ${what}: it is limited to units (${who.units.join(", ")})`);
}

export function accessService(
  gateway: RegistryServiceClient,
  log: Logger,
  who: (ctx: RequestContext) => Promise<Principal>,
  audit: AuditLog,
): AccessMethods {
  const g = gateway;
  return {
    createToken: unaryHandler(log, "CreateToken", async (req, ctx) => {
      const p = await who(ctx);
      assertTokenAdmin(p, "create tokens");
      const role = parseRole(req.role);
      assertUnitGlobs(req.units);
      if (!(Number.isInteger(req.ttlSeconds) && req.ttlSeconds >= 0)) throw new FleetError("invalid-argument", "ttl must be 0 (never lapses) or a number of seconds");
      const id = randomBytes(6).toString("hex");
      const secret = formatTokenSecret(id, randomBytes(32));
      const now = Date.now();
      const info = { id, role, units: req.units, createdAtMs: now, expiresAtMs: req.ttlSeconds > 0 ? now + req.ttlSeconds * 1000 : 0, createdBy: p.id };
      await unaryWrite(g.putToken.bind(g), { token: { info, secretHash: sha256Hex(secret) }, ttlSeconds: req.ttlSeconds }, { requestId: ctx.requestId, what: `creating token ${id}`, service: "the registry-gateway" });
      const detail = `token ${id} role ${role}${req.units.length > 0 ? ` units ${req.units.join(",")}` : ""}${req.ttlSeconds > 0 ? ` ttl ${req.ttlSeconds}s` : ""}`;
      await audit.record(p, ctx.requestId, "create-token", { detail });
      ctx.log.info({ token: id, role, units: req.units, by: p.id }, "token created");
      return { token: info, secret };
    }),
    listTokens: unaryHandler(log, "ListTokens", async (_req, ctx) => {
      assertTokenAdmin(await who(ctx), "list tokens");
      const res = await unary(g.listTokens.bind(g), {}, { requestId: ctx.requestId });
      return { tokens: [...res.tokens].sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id)) };
    }),
    revokeToken: unaryHandler(log, "RevokeToken", async (req, ctx) => {
      const p = await who(ctx);
      assertTokenAdmin(p, "revoke tokens");
      const id = isTokenId(req.token) ? req.token : tokenIdOfSecret(req.token);
      if (!id) throw new FleetError("invalid-argument", "expected a token id (12 hex digits) or a token (fleet_<id>_<secret>)");
      const res = await unaryWrite(g.deleteToken.bind(g), { id }, { requestId: ctx.requestId, what: `revoking token ${id}`, service: "the registry-gateway" });
      if (!res.deleted) throw new FleetError("not-found", `token ${id} not found`);
      await audit.record(p, ctx.requestId, "revoke-token", { detail: `token ${id}` });
      ctx.log.info({ token: id, by: p.id }, "token revoked");
      return { id };
    }),
    listAudit: unaryHandler(log, "ListAudit", async (req, ctx) => {
      const p = await who(ctx);
      assertAllowed(p, "admin", "read the audit log");
      const res = await unary(g.listAudit.bind(g), { sinceMs: req.sinceMs, unit: req.unit, limit: req.limit }, { requestId: ctx.requestId });
      // An admin limited to units reads what was done to those units only (not tokens, not
      // metadata, not other units).
      return { entries: p.units.length === 0 ? res.entries : res.entries.filter((e) => e.unit !== "" && inScope(p, e.unit)) };
    }),
  };
}

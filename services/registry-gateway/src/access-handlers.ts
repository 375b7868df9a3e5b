// RegistryService's API tokens and audit log, for the api (token-records.ts, audit-records.ts).
import { unaryHandler, FleetError, type Logger, type RegistryServiceServer } from "@fleet/wire";
import type { Registry } from "./registry.js";

type AccessHandlers = Pick<RegistryServiceServer, "putToken" | "getToken" | "listTokens" | "deleteToken" | "appendAudit" | "listAudit">;

export function accessHandlers(registry: Registry, log: Logger): AccessHandlers {
  return {
    putToken: unaryHandler(log, "PutToken", async (req) => {
      if (!req.token) throw new FleetError("invalid-argument", "token is required");
      return { revision: await registry.tokens.put(req.token, req.ttlSeconds) };
    }),
    getToken: unaryHandler(log, "GetToken", async (req) => {
      const token = await registry.tokens.get(req.id);
      return { token };
    }),
    listTokens: unaryHandler(log, "ListTokens", async () => ({ tokens: await registry.tokens.list() })),
    deleteToken: unaryHandler(log, "DeleteToken", async (req) => registry.tokens.delete(req.id)),
    appendAudit: unaryHandler(log, "AppendAudit", async (req) => {
      await registry.audit.append(req.entries);
      return {};
    }),
    listAudit: unaryHandler(log, "ListAudit", async (req) => ({ entries: await registry.audit.list(req.sinceMs, req.unit, req.limit) })),
  };
}

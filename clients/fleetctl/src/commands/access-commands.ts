// token (create, list, revoke) and audit: the api's tokens and audit log, for admins. Over the
// gRPC endpoint only (HTTP API v1 has neither).
import { boolFlag, numberFlag, stringFlag, type FlagValues } from "./argv.js";
import type { Command } from "./command.js";
import { parseDurationSeconds } from "./duration.js";
import { errorMessage, say, warn, type CommandContext } from "../context/context.js";
import type { AccessApi, AuditEntry, TokenInfo } from "../api/fleet-api.js";
import { formatTable } from "../output/tabwriter.js";

const NEEDS_GRPC = "tokens and the audit log are served on the api's gRPC endpoint (--endpoint host:port), not HTTP API v1";

function accessOf(ctx: CommandContext): AccessApi | undefined {
  if (!ctx.api.access) warn(ctx, NEEDS_GRPC);
  return ctx.api.access;
}

const iso = (ms: number): string => (ms > 0 ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z") : "-");

function table(ctx: CommandContext, flags: FlagValues, header: string[], rows: string[][]): void {
  ctx.output.stdout(formatTable(boolFlag(flags, "no-legend") ? rows : [header, ...rows]));
}

function tokenRow(t: TokenInfo): string[] {
  return [t.id, t.role, t.units.length > 0 ? t.units.join(",") : "*", iso(t.createdAtMs), t.expiresAtMs > 0 ? iso(t.expiresAtMs) : "never", t.createdBy];
}

function auditRow(e: AuditEntry): string[] {
  const target = e.unit || (e.machineId ? `machine ${e.machineId}` : "-");
  return [iso(e.atMs), e.who, e.action, target, e.ok ? "ok" : "failed", e.detail || "-", e.requestId || "-"];
}

async function tokenCreate(ctx: CommandContext, access: AccessApi, flags: FlagValues): Promise<number> {
  const role = stringFlag(flags, "role");
  if (role === "") {
    warn(ctx, "token create needs --role viewer, operator or admin");
    return 1;
  }
  const units = stringFlag(flags, "units")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const ttlText = stringFlag(flags, "ttl");
  const ttl = ttlText === "" ? 0 : parseDurationSeconds(ttlText);
  if (ttl === undefined) {
    warn(ctx, `invalid --ttl ${JSON.stringify(ttlText)}: expected a duration such as 90s, 15m, 24h or 7d`);
    return 1;
  }
  const { token, secret } = await access.createToken(role, units, ttl);
  ctx.output.stdout(`${secret}\n`);
  ctx.output.stderr(`${token.id}\n`);
  return 0;
}

export const tokenCommand: Command = {
  name: "token",
  summary: "Create, list and revoke API tokens (admin)",
  usage: "create --role viewer|operator|admin [--units GLOB[,GLOB...]] [--ttl DURATION] | list [--no-legend] | revoke ID|SECRET",
  description: `Manages the tokens the api accepts (Authorization: Bearer; fleetctl --token or FLEETCTL_TOKEN).

token create prints the new token's secret alone on stdout (it is shown only this once) and its
id on stderr. --units limits the token to units whose names match one of the globs (*, ?, [...]).
--ttl makes it lapse (90s, 15m, 24h, 7d); without it, it lasts until revoked.

token revoke takes the token's id or its whole secret; the token is refused from the next
request on, by every api.`,
  flags: [
    { name: "role", kind: "string", default: "", usage: "viewer (reads), operator (also changes units) or admin (also metadata, tokens, audit)." },
    { name: "units", kind: "string", default: "", usage: "Unit name globs the token is limited to, comma separated (default: every unit)." },
    { name: "ttl", kind: "string", default: "", usage: "How long until the token lapses (e.g. 24h, 7d); default: never." },
    { name: "no-legend", kind: "bool", default: false, usage: "Do not print a legend (column headers)" },
  ],
  async run(ctx, flags, args) {
    const verb = args[0] ?? "";
    const access = accessOf(ctx);
    if (!access) return 1;
    try {
      if (verb === "create" && args.length === 1) return await tokenCreate(ctx, access, flags);
      if (verb === "list" && args.length === 1) {
        table(ctx, flags, ["ID", "ROLE", "UNITS", "CREATED", "EXPIRES", "CREATED BY"], (await access.listTokens()).map(tokenRow));
        return 0;
      }
      if (verb === "revoke" && args.length === 2) {
        say(ctx, `Revoked token ${await access.revokeToken(args[1] ?? "")}`);
        return 0;
      }
    } catch (err) {
      warn(ctx, `Error: ${errorMessage(err)}`);
      return 1;
    }
    warn(ctx, `usage: fleetctl token ${tokenCommand.usage}`);
    return 1;
  },
};

export const auditCommand: Command = {
  name: "audit",
  summary: "Show the changes made through the api: who, what, when (admin)",
  usage: "[--since DURATION] [--unit UNIT] [--limit N] [--no-legend]",
  description: `Lists the changes made through the api, oldest first: unit creates, replacements, state
changes and destroys, machine metadata and tokens, each with who made it (a token id, a
certificate's identity), when and the request id its logs carry. Entries are kept for the
gateways' audit_retention (7 days by default).`,
  flags: [
    { name: "since", kind: "string", default: "", usage: "Only entries this recent (e.g. 1h, 7d)." },
    { name: "unit", kind: "string", default: "", usage: "Only entries about this unit." },
    { name: "limit", kind: "int", default: 1000, usage: "At most this many entries, the newest." },
    { name: "no-legend", kind: "bool", default: false, usage: "Do not print a legend (column headers)" },
  ],
  async run(ctx, flags) {
    const access = accessOf(ctx);
    if (!access) return 1;
    const sinceText = stringFlag(flags, "since");
    const since = sinceText === "" ? 0 : parseDurationSeconds(sinceText);
    if (since === undefined) {
      warn(ctx, `invalid --since ${JSON.stringify(sinceText)}: expected a duration such as 15m, 24h or 7d`);
      return 1;
    }
    try {
      const entries = await access.listAudit(since > 0 ? ctx.clock.now() - since * 1000 : 0, stringFlag(flags, "unit"), numberFlag(flags, "limit"));
      table(ctx, flags, ["TIME", "WHO", "ACTION", "TARGET", "RESULT", "DETAIL", "REQUEST"], entries.map(auditRow));
      return 0;
    } catch (err) {
      warn(ctx, `Error: ${errorMessage(err)}`);
      return 1;
    }
  },
};

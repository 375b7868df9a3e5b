// The api's record of every change made through it (RegistryService.AppendAudit): who, what,
// when, with the request id. A record that cannot be written is logged, and the change stands.
import type { Principal } from "@fleet/domain";
import { unary, type Logger, type RegistryServiceClient } from "@fleet/wire";

export type AuditAction = "create-unit" | "replace-unit" | "set-unit-state" | "destroy-unit" | "set-metadata" | "create-token" | "revoke-token";

export interface AuditFields {
  readonly unit?: string;
  readonly machineId?: string;
  readonly detail?: string;
  /** False: the change was refused or failed (detail says why). */
  readonly ok?: boolean;
}

export class AuditLog {
  constructor(
    private readonly gateway: RegistryServiceClient,
    private readonly log: Logger,
  ) {}

  async record(who: Principal, requestId: string, action: AuditAction, fields: AuditFields = {}): Promise<void> {
    await this.recordMany(who, requestId, action, [fields]);
  }

  /** One entry per `fields` (a request that changed many units), written together. */
  async recordMany(who: Principal, requestId: string, action: AuditAction, many: readonly AuditFields[]): Promise<void> {
    if (many.length === 0) return;
    const atMs = Date.now();
    const entries = many.map((fields) => ({
      atMs,
      who: who.id,
      requestId,
      action,
      unit: fields.unit ?? "",
      machineId: fields.machineId ?? "",
      detail: fields.detail ?? "",
      ok: fields.ok ?? true,
    }));
    try {
      await unary(this.gateway.appendAudit.bind(this.gateway), { entries }, { requestId, deadlineMs: 5_000 });
    } catch (err) {
      this.log.error({ requestId, action, units: entries.length, who: who.id, err: (err as Error).message }, "audit entries not recorded");
    }
  }
}

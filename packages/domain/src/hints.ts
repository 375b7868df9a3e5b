// NATS subjects for reconcile hints. Hints only say "something changed at revision R"; every
// loop also reconciles on a timer, so a lost hint delays convergence but never breaks it.

export const ENGINE_SUBJECT = "fleet.hints.engine";
/** Changes every agent must look at: a global unit created, changed or destroyed (hint-routes.ts). */
export const ALL_MACHINES_SUBJECT = "fleet.hints.machines";

export function machineSubject(machineId: string): string {
  return `fleet.hints.machine.${machineId}`;
}

export interface Hint {
  readonly revision: number;
  /** What changed, for logs: e.g. "unit hello.service", "machine 113f16a7". */
  readonly what: string;
  /** The request that made the change, when the gateway knows it: its receivers log it. */
  readonly requestId?: string;
}

export function encodeHint(hint: Hint): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(hint));
}

/** A request id as fleet accepts one from outside (a header, a hint): short and printable. */
export function isRequestId(value: unknown): value is string {
  return typeof value === "string" && /^[A-Za-z0-9._:-]{1,128}$/.test(value);
}

export function decodeHint(data: Uint8Array): Hint | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(data));
    if (typeof value === "object" && value !== null && "revision" in value && typeof value.revision === "number") {
      const what = "what" in value && typeof value.what === "string" ? value.what : "";
      const requestId = "requestId" in value && isRequestId(value.requestId) ? value.requestId : undefined;
      return { revision: value.revision, what, ...(requestId ? { requestId } : {}) };
    }
  } catch {
    // fall through: a malformed hint is ignored, the timer still reconciles
  }
  return undefined;
}

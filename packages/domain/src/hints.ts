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
  /**
   * For a hint every agent hears (ALL_MACHINES_SUBJECT): the milliseconds over which the agents
   * spread their passes, each waiting a random part of it, so that a global unit's change does
   * not have every machine read its schedule and report its states in the same instant.
   */
  readonly spreadMs?: number;
}

/** The gateways' hint_spread_rate unless told otherwise: machines a second a global unit's change wakes. */
export const DEFAULT_HINT_SPREAD_RATE = 1000;

/** The longest spread a hint may ask for: a global unit's change reaches every machine within it. */
export const MAX_HINT_SPREAD_MS = 60_000;

/**
 * How long the agents should spread their passes over, for a hint all `machines` hear, so that
 * the gateways see about `machinesPerSecond` of them a second: none for a cluster that rate
 * covers in a moment (0.1 s), never more than MAX_HINT_SPREAD_MS; 0 when the rate is 0 (spreading
 * turned off). Pure.
 */
export function hintSpreadMs(machines: number, machinesPerSecond: number): number {
  if (machinesPerSecond <= 0) return 0;
  const ms = Math.round((machines / machinesPerSecond) * 1000);
  return ms < 100 ? 0 : Math.min(ms, MAX_HINT_SPREAD_MS);
}

/** How long an agent waits before the pass a hint asks for: a random part of its spread. Pure. */
export function hintDelayMs(hint: Hint, random: () => number): number {
  return hint.spreadMs ? Math.floor(random() * hint.spreadMs) : 0;
}

export function encodeHint(hint: Hint): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(hint));
}

/** A request id as fleet accepts one from outside (a header, a hint): short and printable. */
export function isRequestId(value: unknown): value is string {
  return typeof value === "string" && /^[A-Za-z0-9._:-]{1,128}$/.test(value);
}

/** A hint's spread as this agent honours it: whole milliseconds up to MAX_HINT_SPREAD_MS (a longer one, from a gateway that allows more, is cut to it); 0 for none or nonsense. */
function spreadOf(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.min(Math.round(value), MAX_HINT_SPREAD_MS) : 0;
}

export function decodeHint(data: Uint8Array): Hint | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(data));
    if (typeof value === "object" && value !== null && "revision" in value && typeof value.revision === "number") {
      const what = "what" in value && typeof value.what === "string" ? value.what : "";
      const requestId = "requestId" in value && isRequestId(value.requestId) ? value.requestId : undefined;
      const spread = "spreadMs" in value ? spreadOf(value.spreadMs) : 0;
      return { revision: value.revision, what, ...(requestId ? { requestId } : {}), ...(spread > 0 ? { spreadMs: spread } : {}) };
    }
  } catch {
    // fall through: a malformed hint is ignored, the timer still reconciles
  }
  return undefined;
}

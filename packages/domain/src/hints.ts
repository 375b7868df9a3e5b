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
}

export function encodeHint(hint: Hint): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(hint));
}

export function decodeHint(data: Uint8Array): Hint | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(data));
    if (typeof value === "object" && value !== null && "revision" in value && typeof value.revision === "number") {
      const what = "what" in value && typeof value.what === "string" ? value.what : "";
      return { revision: value.revision, what };
    }
  } catch {
    // fall through: a malformed hint is ignored, the timer still reconciles
  }
  return undefined;
}

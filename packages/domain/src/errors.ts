// The domain's errors: a kind a caller can act on and a message a user can read. Transports map
// the kinds to their own codes (gRPC status in @fleet/wire, HTTP status in the api); the domain
// never knows which carried them.

export type FleetErrorKind =
  | "invalid-argument"
  | "not-found"
  | "already-exists"
  | "failed-precondition"
  | "aborted"
  | "unavailable"
  | "deadline-exceeded"
  /** A size or count limit was passed: the message names the limit. */
  | "resource-exhausted"
  /** The caller did not say who it is, or its credentials are not valid. */
  | "unauthenticated"
  /** The caller is known but may not do this. */
  | "permission-denied"
  | "internal";

/** What a failed write did: "unknown" (it may have been applied) or "not-applied". */
export type WriteOutcome = "unknown" | "not-applied";

/**
 * An error with a kind a caller can act on, and a message a user can read. A failed write may
 * also say what became of it: "unknown" (it may have been applied: the answer was lost) or
 * "not-applied" (it was never sent, or the server did not apply it).
 */
export class FleetError extends Error {
  constructor(
    readonly kind: FleetErrorKind,
    message: string,
    readonly outcome?: WriteOutcome,
  ) {
    super(message);
    this.name = "FleetError";
  }
}

/** The write whose outcome is unknown in err or its causes (Error.cause), if any. */
export function outcomeUnknownError(err: unknown): FleetError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof FleetError && e.outcome === "unknown") return e;
  }
  return undefined;
}

/** Whether err is a FleetError of that kind ("not found" and "already exists" are often answers). */
export function isFleetError(err: unknown, kind: FleetErrorKind): err is FleetError {
  return err instanceof FleetError && err.kind === kind;
}

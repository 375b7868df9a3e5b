// One adapter between gRPC status codes and the domain's errors (@fleet/domain's FleetError),
// used by every client and server.
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { FleetError, type FleetErrorKind, type WriteOutcome } from "@fleet/domain";

// The domain's errors, re-exported: code that imports them from "@fleet/wire" keeps working.
export { FleetError, isFleetError, outcomeUnknownError, type FleetErrorKind, type WriteOutcome } from "@fleet/domain";

const toStatus: Record<FleetErrorKind, status> = {
  "invalid-argument": status.INVALID_ARGUMENT,
  "not-found": status.NOT_FOUND,
  "already-exists": status.ALREADY_EXISTS,
  "failed-precondition": status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  unavailable: status.UNAVAILABLE,
  "deadline-exceeded": status.DEADLINE_EXCEEDED,
  "resource-exhausted": status.RESOURCE_EXHAUSTED,
  unauthenticated: status.UNAUTHENTICATED,
  "permission-denied": status.PERMISSION_DENIED,
  internal: status.INTERNAL,
};

/** Trailer a fleet server sets on every error status: its kind. Its absence means grpc-js (or
 * a proxy) made the status up, not a fleet server. */
export const ERROR_KIND_TRAILER = "fleet-error";
/** Trailer saying what became of a write ("unknown", "not-applied"). */
export const OUTCOME_TRAILER = "fleet-outcome";

function trailers(kind: FleetErrorKind, outcome?: WriteOutcome): Metadata {
  const metadata = new Metadata();
  metadata.set(ERROR_KIND_TRAILER, kind);
  if (outcome) metadata.set(OUTCOME_TRAILER, outcome);
  return metadata;
}

/** What a server handler sends for a thrown error. Unknown errors become INTERNAL. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof FleetError) {
    return { code: toStatus[err.kind], details: err.message, metadata: trailers(err.kind, err.outcome) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: status.INTERNAL, details: message, metadata: trailers("internal") };
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === "number";
}

function trailer(err: ServiceError, key: string): string | undefined {
  const value = err.metadata instanceof Metadata ? err.metadata.get(key)[0] : undefined;
  return typeof value === "string" ? value : undefined;
}

/** Whether a fleet server sent this status (rather than grpc-js making it up locally). */
export function answeredByFleetServer(err: ServiceError): boolean {
  return trailer(err, ERROR_KIND_TRAILER) !== undefined;
}

/** What the server said became of a write, if it said. */
export function outcomeTrailer(err: ServiceError): WriteOutcome | undefined {
  const value = trailer(err, OUTCOME_TRAILER);
  return value === "unknown" || value === "not-applied" ? value : undefined;
}

/** What a client sees for a failed call: a FleetError with the server's message. */
export function fromServiceError(err: unknown): FleetError {
  if (err instanceof FleetError) return err;
  if (!isServiceError(err)) return new FleetError("internal", err instanceof Error ? err.message : String(err));
  return new FleetError(kindOfStatus(err.code), err.details || err.message, outcomeTrailer(err));
}

/** The kind of a gRPC status code; codes fleet does not use are "internal". */
export function kindOfStatus(code: number): FleetErrorKind {
  switch (code) {
    case status.INVALID_ARGUMENT:
      return "invalid-argument";
    case status.NOT_FOUND:
      return "not-found";
    case status.ALREADY_EXISTS:
      return "already-exists";
    case status.FAILED_PRECONDITION:
      return "failed-precondition";
    case status.ABORTED:
      return "aborted";
    case status.UNAVAILABLE:
      return "unavailable";
    case status.DEADLINE_EXCEEDED:
      return "deadline-exceeded";
    case status.RESOURCE_EXHAUSTED:
      return "resource-exhausted";
    case status.UNAUTHENTICATED:
      return "unauthenticated";
    case status.PERMISSION_DENIED:
      return "permission-denied";
    default:
      return "internal";
  }
}

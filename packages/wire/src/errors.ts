// One adapter between gRPC status codes and the domain's errors, used by every client and server.
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";

export type FleetErrorKind =
  | "invalid-argument"
  | "not-found"
  | "already-exists"
  | "failed-precondition"
  | "unavailable"
  | "deadline-exceeded"
  | "internal";

/** An error with a kind a caller can act on, and a message a user can read. */
export class FleetError extends Error {
  constructor(
    readonly kind: FleetErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "FleetError";
  }
}

/** Whether err is a FleetError of that kind ("not found" and "already exists" are often answers). */
export function isFleetError(err: unknown, kind: FleetErrorKind): err is FleetError {
  return err instanceof FleetError && err.kind === kind;
}

const toStatus: Record<FleetErrorKind, status> = {
  "invalid-argument": status.INVALID_ARGUMENT,
  "not-found": status.NOT_FOUND,
  "already-exists": status.ALREADY_EXISTS,
  "failed-precondition": status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
  "deadline-exceeded": status.DEADLINE_EXCEEDED,
  internal: status.INTERNAL,
};

/** What a server handler sends for a thrown error. Unknown errors become INTERNAL. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof FleetError) {
    return { code: toStatus[err.kind], details: err.message, metadata: new Metadata() };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: status.INTERNAL, details: message, metadata: new Metadata() };
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === "number";
}

/** What a client sees for a failed call: a FleetError with the server's message. */
export function fromServiceError(err: unknown): FleetError {
  if (err instanceof FleetError) return err;
  if (!isServiceError(err)) return new FleetError("internal", err instanceof Error ? err.message : String(err));
  const message = err.details || err.message;
  switch (err.code) {
    case status.INVALID_ARGUMENT:
      return new FleetError("invalid-argument", message);
    case status.NOT_FOUND:
      return new FleetError("not-found", message);
    case status.ALREADY_EXISTS:
      return new FleetError("already-exists", message);
    case status.FAILED_PRECONDITION:
      return new FleetError("failed-precondition", message);
    case status.UNAVAILABLE:
      return new FleetError("unavailable", message);
    case status.DEADLINE_EXCEEDED:
      return new FleetError("deadline-exceeded", message);
    default:
      return new FleetError("internal", message);
  }
}

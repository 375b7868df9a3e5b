// HTTP errors as fleet sends them: a status and `{"error":{"code":N,"message":"..."}}`; and the
// one mapping of FleetError kinds (from the backend) to HTTP statuses.
import { FleetError, type FleetErrorKind } from "@fleet/domain";
import type { JsonObject } from "./entities.js";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** For a 405: the methods the resource has (the Allow header). */
    readonly allow?: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

const STATUS_OF_KIND: Record<FleetErrorKind, number> = {
  "invalid-argument": 400,
  "not-found": 404,
  "already-exists": 409,
  "failed-precondition": 409,
  aborted: 409,
  unavailable: 503,
  "deadline-exceeded": 504,
  "resource-exhausted": 413,
  unauthenticated: 401,
  "permission-denied": 403,
  internal: 500,
};

/**
 * The HTTP error for anything a handler threw; unknown errors are 500s. A write whose outcome
 * is unknown ("... may have been applied: ...") is a 503, whatever cut it short: the request can
 * be sent again.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof FleetError && err.outcome === "unknown") return new HttpError(503, err.message);
  if (err instanceof FleetError) return new HttpError(STATUS_OF_KIND[err.kind], err.message);
  return new HttpError(500, err instanceof Error ? err.message : String(err));
}

/** fleet's error entity. */
export function errorEntity(error: HttpError): JsonObject {
  return { error: { code: error.status, message: error.message } };
}

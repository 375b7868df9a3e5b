// Which etcd failures are retried, which open a member's circuit, and what the caller is told.
// Pure: decisions over an operation's kind and the error etcd3 (or grpc-js) gave.
//
//   failure       what it proves                          retried for
//   not-sent      the request never reached etcd, or etcd   every operation
//                 refused it before applying anything
//                 (no connection, open circuit, no leader,
//                 too many requests)
//   unknown       it may have been applied (timeout,        idempotent operations only
//                 connection lost mid-call, etcd's own
//                 "request timed out")
//   rejected      etcd answered no (bad request, lease      never
//                 not found, permission denied, ...)
//
// Only lost connections and members without a leader count against a member's circuit
// breaker: a slow request is slow, not a dead member.
import { BrokenCircuitError, IsolatedCircuitError } from "cockatiel";
import {
  castGrpcError,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCInternalError,
  GRPCResourceExhastedError,
  GRPCUnavailableError,
  GRPCUnknownError,
} from "etcd3";
import { FleetError } from "@fleet/domain";

/**
 * The etcd operations the gateway makes. "txn-idempotent" is a transaction whose second
 * application leaves etcd and the caller's answer as the first did (puts of the same values,
 * compare-guarded writes whose caller re-reads on a failed compare); "txn-once" is one whose
 * retry could change the answer (create-if-absent, delete-if-present, a fence that another
 * writer may flip in between).
 */
export type EtcdOp = "range" | "txn-idempotent" | "txn-once" | "lease-grant" | "lease-revoke" | "lease-keepalive" | "lease-ttl";

export type EtcdFailure = "not-sent" | "unknown" | "rejected";

const IDEMPOTENT: Readonly<Record<EtcdOp, boolean>> = {
  range: true,
  "txn-idempotent": true,
  "txn-once": false,
  "lease-grant": false,
  "lease-revoke": true,
  "lease-keepalive": true,
  "lease-ttl": true,
};

export function isIdempotent(op: EtcdOp): boolean {
  return IDEMPOTENT[op];
}

/** A keep-alive (or other stream request) that got no answer in time; it may have been applied. */
export class EtcdStreamTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EtcdStreamTimeoutError";
  }
}

/** A stream that etcd (or the connection) ended while requests were waiting on it. */
export class EtcdStreamEndedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EtcdStreamEndedError";
  }
}

/**
 * A request that ran past its deadline, re-thrown in this form by a member's policy so that
 * etcd3 does not take it for a broken connection (it resets every client of the member on
 * errors it calls recoverable, DEADLINE_EXCEEDED among them).
 */
export class EtcdSlowRequestError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
    this.name = "EtcdSlowRequestError";
  }
}

// UNAVAILABLE details that prove nothing was applied: grpc-js had no connection to send on,
// or etcd refused the request before proposing it.
const NOT_SENT = /No connection established|Channel closed before call started|etcdserver: no leader|etcdserver: not capable|etcdserver: too many requests/i;
// UNAVAILABLE details etcd sends for a slow or interrupted proposal: it may still commit, and
// the member is alive.
const SLOW = /etcdserver: request timed out|etcdserver: leader changed|etcdserver: request cancelled/i;

/** A grpc-js ServiceError (numeric code) as etcd3's typed error; other errors as they are. */
function typed(err: Error): Error {
  return err.constructor === Error && typeof (err as { code?: unknown }).code === "number" ? castGrpcError(err) : err;
}

export function classifyEtcdError(raw: unknown): EtcdFailure {
  if (!(raw instanceof Error)) return "rejected";
  if (raw instanceof BrokenCircuitError || raw instanceof IsolatedCircuitError) return "not-sent";
  if (raw instanceof EtcdSlowRequestError || raw instanceof EtcdStreamTimeoutError || raw instanceof EtcdStreamEndedError) return "unknown";
  const err = typed(raw);
  if (NOT_SENT.test(err.message) && (err instanceof GRPCUnavailableError || err instanceof GRPCResourceExhastedError)) return "not-sent";
  if (
    err instanceof GRPCUnavailableError ||
    err instanceof GRPCDeadlineExceededError ||
    err instanceof GRPCCancelledError ||
    err instanceof GRPCInternalError ||
    err instanceof GRPCUnknownError ||
    err instanceof GRPCResourceExhastedError
  ) {
    return "unknown";
  }
  return "rejected";
}

/** Whether a failed attempt of `op` is tried again (with backoff). */
export function shouldRetry(op: EtcdOp, err: unknown): boolean {
  const failure = classifyEtcdError(err);
  return failure === "not-sent" || (failure === "unknown" && isIdempotent(op));
}

/** Whether the error counts against the member's circuit: the connection is gone or the member has no leader. */
export function isLostConnection(raw: Error): boolean {
  const err = typed(raw);
  return err instanceof GRPCUnavailableError && !SLOW.test(err.message);
}

/** Whether the error is a request that ran out of time (not a lost member). */
export function isDeadlineExceeded(raw: Error): boolean {
  return typed(raw) instanceof GRPCDeadlineExceededError;
}

/** What the gateway's caller is told once `op` gave up: UNAVAILABLE, saying whether a write may have been applied. */
export function etcdFailureToFleetError(op: EtcdOp, err: unknown): FleetError {
  if (err instanceof FleetError) return err;
  const message = err instanceof Error ? (err instanceof EtcdSlowRequestError ? err.cause.message : err.message) : String(err);
  switch (classifyEtcdError(err)) {
    case "not-sent":
      return new FleetError("unavailable", `etcd is unavailable: ${message}`);
    case "unknown":
      return isIdempotent(op) || op === "lease-grant"
        ? new FleetError("unavailable", `etcd did not answer: ${message}`)
        : new FleetError("unavailable", `etcd did not confirm the write, which may have been applied: ${message}`);
    case "rejected":
      return new FleetError("internal", `etcd refused the request: ${message}`);
  }
}

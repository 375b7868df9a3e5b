// What a failed call tells about its request: a server's answer (nothing was done, or the server
// says what it knows), never sent (grpc-js had no connection to send it on), or sent and then the
// answer was lost, so a write may have been applied. Pure: the facts come from client.ts.
import { status } from "@grpc/grpc-js";
import type { WriteOutcome } from "@fleet/domain";

export interface CallFailure {
  /** The gRPC status code. */
  readonly code: number;
  readonly details: string;
  /** A fleet server sent this status (it carries fleet's trailer); otherwise grpc-js made it up. */
  readonly answered: boolean;
  /** What that server said about the outcome of the write, if anything. */
  readonly serverOutcome?: WriteOutcome;
  /**
   * grpc-js's name for the other end: the peer's address once the call was started on a
   * connection, the channel's target (scheme:...) when it never was.
   */
  readonly peer: string;
}

/** Codes that say nothing definite about a write: the transport's, or a server that gave up. */
const INCONCLUSIVE = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED, status.INTERNAL, status.UNKNOWN, status.DATA_LOSS]);

/** A grpc target ("dns:h:1", "fleet-endpoints:a:1,b:2", "unix:///x"), not a peer address. */
const TARGET = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Whether the request may have left this process: grpc-js started it on a connection. A call
 * that failed its pick ("No connection established") or waited for one until its deadline
 * ("Waiting for LB pick") never was.
 */
export function wasStarted(f: Pick<CallFailure, "peer" | "details">): boolean {
  if (/^No connection established/.test(f.details) || f.details.includes("Waiting for LB pick")) return false;
  return !TARGET.test(f.peer);
}

/**
 * The outcome of a failed write: "refused" when the answer is definite (the server refused it:
 * nothing was written), otherwise whether it may have been applied.
 */
export function writeOutcome(f: CallFailure): WriteOutcome | "refused" {
  if (f.serverOutcome) return f.serverOutcome;
  if (!INCONCLUSIVE.has(f.code)) return "refused";
  if (!f.answered && !wasStarted(f)) return "not-applied";
  return "unknown";
}

/** The peer without a target's scheme, for messages. */
function where(peer: string): string {
  return peer.replace(TARGET, "").replace(/^\/\//, "");
}

/** Why the outcome is unknown, in words: the second half of "X may have been applied: ...". */
export function lostAnswerCause(f: CallFailure, service: string): string {
  const at = `${service} (${where(f.peer)})`;
  if (f.answered) return `${service} could not confirm it (${f.details})`;
  switch (f.code) {
    case status.DEADLINE_EXCEEDED:
      return `no answer from ${at} before the deadline`;
    case status.CANCELLED:
      return `the call to ${at} was cancelled before its answer`;
    default:
      return `the connection to ${at} was lost before its answer (${f.details})`;
  }
}

/** The message of a call grpc-js never sent: nothing reached the server. */
export function notSentMessage(f: CallFailure, service: string): string {
  return `${service} at ${where(f.peer)} is not reachable, nothing was sent (${f.details})`;
}

/** Up to three names, then how many more: for "creating units a, b, c and 7 more". */
export function someNames(names: readonly string[]): string {
  if (names.length <= 3) return names.join(", ");
  return `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

/** "<what> may have been applied: <cause>": the words every layer uses for an unknown outcome. */
export function unknownOutcomeMessage(what: string, cause: string): string {
  return `${what} may have been applied: ${cause}`;
}

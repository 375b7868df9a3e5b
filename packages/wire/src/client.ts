// Client-side plumbing: channels (one endpoint, or a list to fail over between), deadlines, and
// promise-returning unary calls whose failures say what became of a write.
import {
  InterceptingCall,
  Metadata,
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientUnaryCall,
  type Interceptor,
  type ServiceError,
} from "@grpc/grpc-js";
import { lostAnswerCause, notSentMessage, unknownOutcomeMessage, writeOutcome, type CallFailure } from "./call-outcome.js";
import { registerEndpointListResolver } from "./endpoint-list-resolver.js";
import { endpointListTarget, parseHostPort } from "./endpoint-list.js";
import { answeredByFleetServer, FleetError, fromServiceError, isServiceError, outcomeTrailer } from "./errors.js";
import { currentRequestId } from "./request-scope.js";
import { channelCredentials } from "./tls.js";

export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

export const DEFAULT_DEADLINE_MS = 10_000;

export interface UnaryOptions {
  /** The call's time limit from now (default DEFAULT_DEADLINE_MS)... */
  readonly deadlineMs?: number;
  /** ...and, if given, no later than this (e.g. the deadline of the call being served). */
  readonly deadline?: Date;
  readonly requestId?: string;
  /** More metadata sent with the call (e.g. the caller's credentials). */
  readonly headers?: Readonly<Record<string, string>>;
}

function start<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: UnaryOptions,
  onDone: (error: ServiceError | null, response: Res, call: ClientUnaryCall) => void,
): void {
  const metadata = new Metadata();
  // The request this call is made for: the one given, else the one whose scope it is made in.
  const requestId = options.requestId ?? currentRequestId();
  if (requestId) metadata.set("x-request-id", requestId);
  for (const [k, v] of Object.entries(options.headers ?? {})) metadata.set(k, v);
  let deadline = new Date(Date.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS));
  if (options.deadline && options.deadline < deadline) deadline = options.deadline;
  const call: ClientUnaryCall = method(request, metadata, { deadline }, (error, response) => onDone(error, response, call));
}

/** Calls a unary method with a deadline; failures become FleetErrors. For reads. */
export function unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, options: UnaryOptions = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    start(method, request, options, (error, response) => (error ? reject(fromServiceError(error)) : resolve(response)));
  });
}

export interface WriteOptions extends UnaryOptions {
  /** The write in words, for "<what> may have been applied: ...": "creating unit a.service". */
  readonly what: string;
  /** Who was called, in words: "the registry-gateway" (default "the server"). */
  readonly service?: string;
}

/**
 * The FleetError of a failed write: the server's refusal as it is; a write grpc-js never sent
 * says so (outcome "not-applied"); one whose answer was lost says "<what> may have been applied:
 * <cause>" (outcome "unknown", kind unavailable or deadline-exceeded).
 */
export function writeError(err: unknown, peer: string, options: Pick<WriteOptions, "what" | "service">): FleetError {
  if (!isServiceError(err)) return fromServiceError(err);
  const service = options.service ?? "the server";
  const failure: CallFailure = {
    code: err.code,
    details: err.details || err.message,
    answered: answeredByFleetServer(err),
    peer,
    ...(outcomeTrailer(err) ? { serverOutcome: outcomeTrailer(err) } : {}),
  };
  const plain = fromServiceError(err);
  switch (writeOutcome(failure)) {
    case "refused":
      return plain;
    case "not-applied":
      return new FleetError(plain.kind, failure.answered ? plain.message : notSentMessage(failure, service), "not-applied");
    case "unknown": {
      const kind = plain.kind === "deadline-exceeded" ? "deadline-exceeded" : "unavailable";
      // A fleet server in front (the api) may have said it in these very words already.
      const said = failure.answered && plain.message.startsWith(unknownOutcomeMessage(options.what, ""));
      const message = said ? plain.message : unknownOutcomeMessage(options.what, lostAnswerCause(failure, service));
      return new FleetError(kind, message, "unknown");
    }
  }
}

/** Calls a unary method that changes something; failures say what became of the write (writeError). */
export function unaryWrite<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, options: WriteOptions): Promise<Res> {
  return new Promise((resolve, reject) => {
    start(method, request, options, (error, response, call) => {
      if (!error) resolve(response);
      else reject(writeError(error, call.getPeer(), options));
    });
  });
}

/**
 * Reconnect with backoff that grpc-js jitters itself, starting short so that a server that
 * comes back is used at once, and capped low: a refused connection costs next to nothing, and
 * calls that wait for a connection (connectEndpoints) wait for the next attempt. Keepalives find
 * dead peers.
 */
export const CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 250,
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  // No channelz: nothing reads it, and it times and counts every message of every call.
  "grpc.enable_channelz": 0,
};

export interface ClientConstructor<C> {
  new (address: string, creds: ChannelCredentials, options?: ChannelOptions & { interceptors?: Interceptor[] }): C;
}

/** A client of a service at host:port (or unix:///path), with the process's TLS settings. */
export function connect<C>(ctor: ClientConstructor<C>, address: string, creds: ChannelCredentials = channelCredentials()): C {
  return new ctor(address, creds, CHANNEL_OPTIONS);
}

export interface EndpointsOptions {
  /** Calls wait for a ready connection within their deadline instead of failing while there is none. */
  readonly waitForReady?: boolean;
  /** Methods ("/fleet.v1.Service/Method") that grpc-js retries on UNAVAILABLE: idempotent ones only. */
  readonly retriedMethods?: readonly string[];
  readonly credentials?: ChannelCredentials;
  /** Use the endpoints in the order given (default: a random order per client). */
  readonly ordered?: boolean;
}

/**
 * Keepalive of a channel with endpoints to fail over to: a peer that stops answering (frozen,
 * cut off) is given up after at most 5 + 10 s, idle connections included, and the next one is
 * used. Not shorter: a busy event loop, the server's or this process's own (an agent starting
 * 300 units, a gateway under a thousand machines), reads the ping's answer late, and a 2 s
 * timeout dropped every connection of a busy agent at once, its lease with them.
 */
export const ENDPOINTS_KEEPALIVE: ChannelOptions = {
  "grpc.keepalive_time_ms": 5_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
};

/** Sets wait-for-ready on every call of a client, streams included. */
const waitForReady: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.setOptions({ ...metadata.getOptions(), waitForReady: true });
      next(metadata, listener);
    },
  });

/**
 * The channel's service config: pick_first over the endpoints' addresses in a random order per
 * client (so that clients spread over the endpoints, each keeping to one while it works), and
 * retries of idempotent methods on UNAVAILABLE (a connection lost mid-call: the retry goes to
 * the next endpoint).
 */
export function endpointsServiceConfig(retriedMethods: readonly string[], shuffle = true): string {
  const names = retriedMethods.map((path) => {
    const [service, method] = path.replace(/^\//, "").split("/");
    return { service, method };
  });
  return JSON.stringify({
    loadBalancingConfig: [{ pick_first: { shuffleAddressList: shuffle } }],
    methodConfig:
      names.length === 0
        ? []
        : [
            {
              name: names,
              retryPolicy: { maxAttempts: 5, initialBackoff: "0.05s", maxBackoff: "0.5s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE"] },
            },
          ],
  });
}

/**
 * A client of a service at any of several endpoints (host:port each, host names included; see
 * endpoint-list.ts): it uses one, and when that one's connection is lost or cannot be made,
 * the next, for unary calls and streams alike.
 */
export function connectEndpoints<C>(ctor: ClientConstructor<C>, endpoints: readonly string[], options: EndpointsOptions = {}): C {
  const target = endpointListTarget(endpoints);
  if (endpoints.length > 1) registerEndpointListResolver();
  const names = endpoints.flatMap((e) => {
    const hp = parseHostPort(e);
    return typeof hp === "string" ? [] : [hp.host];
  });
  const creds = options.credentials ?? channelCredentials(names);
  return new ctor(target, creds, {
    ...CHANNEL_OPTIONS,
    ...ENDPOINTS_KEEPALIVE,
    "grpc.service_config": endpointsServiceConfig(options.retriedMethods ?? [], options.ordered !== true),
    ...(options.waitForReady ? { interceptors: [waitForReady] } : {}),
  });
}

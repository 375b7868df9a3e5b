// Server-side plumbing: unary handlers as async functions, with request ids, logs and one
// mapping of domain errors to gRPC status.
import { randomUUID } from "node:crypto";
import { Server, status, type Metadata, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { fromServiceError, toServiceError, FleetError } from "./errors.js";
import type { Logger } from "./logger.js";
import { addReflection, metricsInterceptor, ServingHealth } from "./grpc-ops.js";
import { isRequestId, withRequestId } from "./request-scope.js";
import { serverCredentials } from "./tls.js";

/** grpc-js's AuthContext (not exported by its index): the connection's security. */
export type AuthContext = ReturnType<ServerUnaryCall<unknown, unknown>["getAuthContext"]>;

export interface RequestContext {
  readonly requestId: string;
  readonly log: Logger;
  /** The caller's deadline, if it set one: calls made on its behalf end no later. */
  readonly deadline?: Date;
  /** The call's metadata (its credentials, among others). */
  readonly metadata: Metadata;
  /** The connection's security: TLS, and the client's certificate under mutual TLS. */
  readonly authContext: () => AuthContext;
}

/** A deadline for calls made while serving a call with `deadline`: a little earlier, so that
 * the answer (an error, if they time out) reaches the caller before its own deadline. */
export function upstreamDeadline(deadline: Date | number, marginMs = 100): Date | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return undefined;
  const left = at - Date.now();
  return new Date(Date.now() + Math.max(left - marginMs, left / 2));
}

function deadlinePassed(deadline: Date | number): boolean {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) && at <= Date.now();
}

/** Wraps an async handler as a grpc-js unary handler. */
export function unaryHandler<Req, Res>(
  log: Logger,
  method: string,
  fn: (request: Req, ctx: RequestContext) => Promise<Res>,
  /** Hears a call answered DEADLINE_EXCEEDED unserved (it waited past its caller's deadline). */
  onLate?: (request: Req) => void,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    const given = call.metadata.get("x-request-id")[0];
    const requestId = isRequestId(given) ? given : randomUUID();
    const callerDeadline = call.getDeadline();
    // A call that waited in line past its caller's deadline (a busy server) is answered at
    // once: its caller has given up, and doing its work would only delay the calls behind it.
    if (call.cancelled || deadlinePassed(callerDeadline)) {
      onLate?.(call.request);
      callback({ code: status.DEADLINE_EXCEEDED, details: `${method}: the caller's deadline passed before the server got to it` }, null);
      return;
    }
    const deadline = upstreamDeadline(callerDeadline);
    // The request's logger is made on first use: most calls log nothing, and a busy gateway
    // serves hundreds a second.
    let requestLog: Logger | undefined;
    const ctx: RequestContext = {
      requestId,
      get log(): Logger {
        // The request id comes with every line written in the request's scope (logger.ts).
        return (requestLog ??= log.child({ method }));
      },
      ...(deadline ? { deadline } : {}),
      metadata: call.metadata,
      authContext: () => call.getAuthContext(),
    };
    withRequestId(requestId, () => fn(call.request, ctx)).then(
      (res) => callback(null, res),
      (err: unknown) => {
        if (err instanceof FleetError && err.outcome === "unknown") ctx.log.warn({ err: err.message }, "write outcome unknown");
        else if (err instanceof FleetError && err.kind !== "internal") ctx.log.debug({ err: err.message }, "request refused");
        else ctx.log.error({ err }, "request failed");
        callback(toServiceError(err), null);
      },
    );
  };
}

export interface ServeOptions {
  /** Under mutual TLS, clients without a certificate may still connect (they authenticate otherwise: the api's tokens). */
  readonly optionalClientCertificate?: boolean;
  /** Serve gRPC server reflection too, of the proto/ files under this directory (the api:
   * "fleet/v1", the public API; the gateway: "fleet", the internal services too). */
  readonly reflection?: string;
}

/**
 * Starts a server on host:port or unix:///path; resolves with the bound port. Besides the given
 * services it serves grpc.health.v1.Health, NOT_SERVING until `health.set(true)`, and counts
 * every call (fleet_grpc_server_*).
 */
export async function serve(
  address: string,
  services: ReadonlyArray<readonly [definition: Parameters<Server["addService"]>[0], impl: UntypedServiceImplementation]>,
  options: ServeOptions = {},
): Promise<{ server: Server; port: number; health: ServingHealth }> {
  // channelz stays on here: grpc-js (1.14) tracks a server's connections for forceShutdown only
  // through it, and without them a server shut down keeps answering on the connections it has.
  const server = new Server({ "grpc.max_receive_message_length": 16 * 1024 * 1024, interceptors: [metricsInterceptor] });
  const names: string[] = [];
  for (const [definition, impl] of services) {
    server.addService(definition, impl);
    const first = Object.values(definition)[0] as { path?: string } | undefined;
    const name = first?.path?.split("/")[1];
    if (name) names.push(name);
  }
  const health = new ServingHealth(server, names);
  if (options.reflection) addReflection(server, options.reflection);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, serverCredentials(options.optionalClientCertificate ?? false), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return { server, port, health };
}

/**
 * Ends a server stream with the error's status. grpc-js sends the status of an 'error' emitted
 * on the call; destroying the call instead would end it without any status, and the client
 * would wait for one.
 */
export function failStream<Req, Res>(call: ServerWritableStream<Req, Res>, err: unknown): void {
  const status = toServiceError(fromServiceError(err));
  call.emit("error", Object.assign(new Error(status.details), status));
}

export function shutdown(server: Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

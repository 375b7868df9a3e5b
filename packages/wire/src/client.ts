// Client-side plumbing: channel options, deadlines, and promise-returning unary calls.
import { Metadata, type CallOptions, type ChannelOptions, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import type { ChannelCredentials } from "@grpc/grpc-js";
import { fromServiceError } from "./errors.js";
import { channelCredentials } from "./tls.js";

export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

export const DEFAULT_DEADLINE_MS = 10_000;

/** Calls a unary method with a deadline; failures become FleetErrors. */
export function unary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: { deadlineMs?: number; requestId?: string } = {},
): Promise<Res> {
  const metadata = new Metadata();
  if (options.requestId) metadata.set("x-request-id", options.requestId);
  const deadline = new Date(Date.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS));
  return new Promise((resolve, reject) => {
    method(request, metadata, { deadline }, (error, response) => {
      if (error) reject(fromServiceError(error));
      else resolve(response);
    });
  });
}

/** Reconnect with backoff that grpc-js jitters itself; keepalives find dead peers. */
export const CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 2_000,
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
};

export interface ClientConstructor<C> {
  new (address: string, creds: ChannelCredentials, options?: ChannelOptions): C;
}

/** A client of a service at host:port (or unix:///path), with the process's TLS settings. */
export function connect<C>(ctor: ClientConstructor<C>, address: string, creds: ChannelCredentials = channelCredentials()): C {
  return new ctor(address, creds, CHANNEL_OPTIONS);
}

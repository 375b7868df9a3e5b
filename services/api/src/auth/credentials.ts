// What a caller presents to the api, read from a gRPC call or an HTTP request: a bearer token,
// a client certificate's identity (mutual TLS), or, on calls the api makes to itself for HTTP
// API v1, the principal it already authenticated, vouched for by a secret of this process.
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { certificateCommonName, type AuthContext, type Metadata } from "@fleet/wire";

export interface Credentials {
  /** The token of `Authorization: Bearer <token>`. */
  readonly bearer?: string;
  /** The common name of a verified client certificate. */
  readonly certificate?: string;
  /** A call from this api's own HTTP API v1: the secret it carries and the principal (JSON). */
  readonly internal?: { readonly secret: string; readonly principal: string };
  /** The request came over the api's unix socket. */
  readonly socket?: boolean;
}

export const INTERNAL_SECRET_HEADER = "x-fleet-internal";
export const INTERNAL_PRINCIPAL_HEADER = "x-fleet-principal";

/** The token of an Authorization header value ("Bearer x"), or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

function text(metadata: Metadata, key: string): string | undefined {
  const v = metadata.get(key)[0];
  return typeof v === "string" ? v : undefined;
}

export function grpcCredentials(metadata: Metadata, auth: AuthContext | null): Credentials {
  const bearer = bearerOf(text(metadata, "authorization"));
  const certificate = certificateCommonName(auth?.sslPeerCertificate?.subject);
  const secret = text(metadata, INTERNAL_SECRET_HEADER);
  const principal = text(metadata, INTERNAL_PRINCIPAL_HEADER);
  return {
    ...(bearer ? { bearer } : {}),
    ...(certificate ? { certificate } : {}),
    ...(secret && principal ? { internal: { secret, principal } } : {}),
  };
}

export function httpCredentials(req: IncomingMessage): Credentials {
  const bearer = bearerOf(req.headers.authorization);
  const socket = req.socket as Partial<TLSSocket>;
  const peer = socket.encrypted && socket.authorized && socket.getPeerCertificate ? socket.getPeerCertificate() : undefined;
  const certificate = certificateCommonName(peer?.subject);
  const viaSocket = req.socket.remoteAddress === undefined && req.socket.localAddress === undefined;
  return { ...(bearer ? { bearer } : {}), ...(certificate ? { certificate } : {}), ...(viaSocket ? { socket: true } : {}) };
}

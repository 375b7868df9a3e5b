// node:http serving HTTP API v1: request ids, bounded bodies, JSON responses and one log line
// per request. The API itself is api-handler.ts.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { isRequestId, type Logger } from "@fleet/wire";
import { handleApiRequest } from "./api-handler.js";
import type { ApiContext, ApiRequest, ApiResponse } from "./api-request.js";
import type { FleetBackend } from "./fleet-backend.js";
import { errorEntity, HttpError, toHttpError } from "./http-error.js";
import { ANONYMOUS_ADMIN, type Principal } from "@fleet/domain";
import { httpCredentials, type Credentials } from "../auth/credentials.js";
import { SERVER_HEADER } from "./server-info.js";

/** Largest request body accepted (a unit file is a few KiB); larger ones are 413. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** How much of a too-large body is read and dropped before the 413 (see readBody). */
const DRAIN_BYTES = 16 * 1024 * 1024;

export interface HttpApiOptions {
  readonly backend: FleetBackend;
  readonly tokenLimit: number;
  readonly log: Logger;
  readonly maxBodyBytes?: number;
  /** Serve HTTPS with these (tls_cert_file, tls_key_file; client certificates checked against tls_ca_file). */
  readonly https?: { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: false };
  /** Who the caller is (auth/authenticator.ts); refusals are 401 / 403. Default: everyone an admin. */
  readonly authenticate?: (creds: Credentials) => Promise<Principal>;
}

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return isRequestId(given) ? given : randomUUID();
}

/**
 * The body as text, or a 413 when it is larger than `limit`. A too-large body is still read
 * (and dropped) up to DRAIN_BYTES so the client, still sending, gets the 413 instead of a
 * broken pipe; beyond that the connection is given up.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new HttpError(413, `request body larger than ${limit} bytes`);
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > DRAIN_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > DRAIN_BYTES) reject(tooLarge());
    });
    req.on("end", () => (size > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString("utf8"))));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, requestId: string, response: ApiResponse): void {
  res.setHeader("Server", SERVER_HEADER);
  res.setHeader("X-Request-Id", requestId);
  if (response.allow) res.setHeader("Allow", response.allow);
  if (response.body === undefined) {
    res.writeHead(response.status).end();
    return;
  }
  const text = "raw" in response.body ? String(response.body.raw) : JSON.stringify(response.body);
  res.writeHead(response.status, { "Content-Type": "application/json" }).end(text);
}

/** The request as the API sees it, or a 400 when its URL cannot be read. */
function apiRequest(req: IncomingMessage, requestId: string, maxBodyBytes: number, principal: Principal): ApiRequest | HttpError {
  const url = new URL(req.url ?? "/", "http://fleet");
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return new HttpError(400, `invalid URL escape in ${JSON.stringify(url.pathname)}`);
  }
  return {
    method: req.method ?? "GET",
    path,
    query: url.searchParams,
    contentType: req.headers["content-type"],
    requestId,
    call: { requestId, principal },
    body: () => readBody(req, maxBodyBytes),
  };
}

/** An HTTP server for HTTP API v1 (not listening yet). */
export function createHttpApiServer(options: HttpApiOptions): Server {
  const ctx: ApiContext = { backend: options.backend, tokenLimit: options.tokenLimit, log: options.log };
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const authenticate = options.authenticate ?? (async () => ANONYMOUS_ADMIN);
  const listener: RequestListener = (req, res) => {
    const started = Date.now();
    const requestId = requestIdOf(req);
    const refused = (err: unknown): ApiResponse => {
      const error = toHttpError(err);
      return { status: error.status, body: errorEntity(error) };
    };
    const handled = authenticate(httpCredentials(req)).then((principal) => {
      const request = apiRequest(req, requestId, maxBodyBytes, principal);
      return request instanceof HttpError ? refused(request) : handleApiRequest(ctx, request);
    }, refused);
    void handled.then((response) => {
      // A refused body may still be arriving: do not keep reading it on this connection.
      if (response.status === 413) res.setHeader("Connection", "close");
      if (response.status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="fleet"');
      send(res, requestId, response);
      const fields = { requestId, method: req.method, path: req.url, status: response.status, ms: Date.now() - started };
      if (response.status >= 500) options.log.error(fields, "http request");
      else if (req.method === "GET" && response.status < 400) options.log.debug(fields, "http request");
      else options.log.info(fields, "http request");
    });
  };
  return options.https ? createHttpsServer(options.https, listener) : createServer(listener);
}

// One HTTP API v1 request and its response, independent of node:http: what the resources
// take and return. http-server.ts adapts node's requests to these.
import type { Logger } from "@fleet/wire";
import type { JsonObject } from "./entities.js";
import type { BackendCall, FleetBackend } from "./fleet-backend.js";
import { HttpError } from "./http-error.js";
import { pageTokenOf, PageTokenError, type PageToken } from "./page-token.js";

export interface ApiRequest {
  readonly method: string;
  /** The URL path, percent-decoded. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The Content-Type header values (node joins repeated ones; fleet wants exactly one). */
  readonly contentType: string | undefined;
  readonly requestId: string;
  /** Who makes the request (authenticated before it reaches the API), and its id, for the backend. */
  readonly call: BackendCall;
  /** The body as text; an HttpError 413 when it is larger than the limit. */
  body(): Promise<string>;
}

export interface ApiResponse {
  readonly status: number;
  /** A JSON entity, raw JSON text, or nothing (201, 204). */
  readonly body?: JsonObject | { readonly raw: string };
  readonly allow?: string;
}

export interface ApiContext {
  readonly backend: FleetBackend;
  /** Page size of every list (fleet's token_limit). */
  readonly tokenLimit: number;
  readonly log: Logger;
}

export const ok = (body: JsonObject): ApiResponse => ({ status: 200, body });
export const noContent = (): ApiResponse => ({ status: 204 });
export const created = (): ApiResponse => ({ status: 201 });

/** The page token of a list request; a bad one is a 400 with fleet's message. */
export function requestPageToken(ctx: ApiContext, req: ApiRequest): PageToken {
  try {
    return pageTokenOf(req.query.getAll("nextPageToken"), ctx.tokenLimit);
  } catch (err) {
    if (err instanceof PageTokenError) throw new HttpError(400, err.message);
    throw err;
  }
}


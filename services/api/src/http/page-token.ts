// fleet's page tokens: {Limit uint16, Page uint16} little-endian, URL-safe base64 with padding
// ("ZAABAA==" is limit 100, page 1), so tokens from fleet's clients and ours are the same.
// Pure: decoding, validation against the server's token_limit, and cutting a page.

export interface PageToken {
  readonly limit: number;
  readonly page: number;
}

export class PageTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PageTokenError";
  }
}

export const DEFAULT_TOKEN_LIMIT = 100;

export function encodePageToken(token: PageToken): string {
  const buf = Buffer.alloc(4);
  buf.writeUInt16LE(token.limit, 0);
  buf.writeUInt16LE(token.page, 2);
  return buf.toString("base64url").padEnd(8, "=");
}

/** Strict URL-safe base64 with padding, as Go's base64.URLEncoding reads it. */
function decodeBase64Url(value: string): Buffer {
  if (value.length % 4 !== 0 || !/^[A-Za-z0-9_-]*={0,2}$/.test(value)) {
    throw new PageTokenError("invalid value of nextPageToken query parameter");
  }
  return Buffer.from(value.replace(/=+$/, ""), "base64url");
}

export function decodePageToken(value: string): PageToken {
  const bytes = decodeBase64Url(value);
  if (bytes.length < 4) throw new PageTokenError("invalid value of nextPageToken query parameter");
  return { limit: bytes.readUInt16LE(0), page: bytes.readUInt16LE(2) };
}

/**
 * The token a request asks for: the first page when it names none; a PageTokenError when it
 * names several, an undecodable one, one of another limit or page 0.
 */
export function pageTokenOf(values: readonly string[], tokenLimit: number): PageToken {
  if (values.length > 1) throw new PageTokenError("too many values for page token");
  const raw = values[0];
  if (raw === undefined) return { limit: tokenLimit, page: 1 };
  const token = decodePageToken(raw);
  if (token.limit !== tokenLimit) throw new PageTokenError(`token limit must be ${tokenLimit}`);
  if (token.page === 0) throw new PageTokenError("token page must be greater than zero");
  return token;
}

/**
 * The items of the token's page and the token of the next one. As in fleet, a full page
 * always has a next token, even when nothing follows it.
 */
export function cutPage<T>(all: readonly T[], token: PageToken): { items: T[]; next: PageToken | undefined } {
  const start = (token.page - 1) * token.limit;
  return pageOf(all.slice(start, start + token.limit), all.length, token);
}

/**
 * The page `items` is (the token's page of `total` items, as the server cut it) and the token of
 * the next one: as in fleet, a full page always has a next token, even when nothing follows it.
 */
export function pageOf<T>(items: readonly T[], total: number, token: PageToken): { items: T[]; next: PageToken | undefined } {
  const start = (token.page - 1) * token.limit;
  if (start >= total) return { items: [], next: undefined };
  const next = token.page * token.limit <= total ? { limit: token.limit, page: token.page + 1 } : undefined;
  return { items: [...items], next };
}

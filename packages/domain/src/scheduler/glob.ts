// Glob patterns as fleet matches Conflicts= and Replaces= against unit names: Go's path.Match.
//
//   *        any run of characters except "/"
//   ?        one character except "/"
//   [a-z]    one character of a class; [^a-z] one character outside it
//   \c       the character c itself
//
// A malformed pattern ("[a", "a\", "[]") never matches anything, as in fleet, which ignores
// path.Match's error. Unit names never contain "/", so "*" matches any run of a unit name.

/** A compiled pattern: undefined when the pattern is malformed. */
export type GlobMatcher = ((name: string) => boolean) | undefined;

const cache = new Map<string, GlobMatcher>();
const CACHE_LIMIT = 10_000;

/** True when `name` matches the glob `pattern` (a malformed pattern matches nothing). */
export function globMatches(pattern: string, name: string): boolean {
  const matcher = compileGlob(pattern);
  return matcher !== undefined && matcher(name);
}

/** Why the pattern is malformed, or undefined when it is a valid glob. */
export function globError(pattern: string): string | undefined {
  const source = toRegExpSource(pattern);
  return typeof source === "string" ? undefined : source.error;
}

/** True when the pattern has no wildcard: it matches exactly one name (itself, unescaped). */
export function isLiteralGlob(pattern: string): boolean {
  return !/[*?[\\]/.test(pattern);
}

/** The characters every match starts with: the pattern up to its first special character. */
export function globLiteralPrefix(pattern: string): string {
  const special = pattern.search(/[*?[\\]/);
  return special === -1 ? pattern : pattern.slice(0, special);
}

export function compileGlob(pattern: string): GlobMatcher {
  let matcher = cache.get(pattern);
  if (matcher !== undefined || cache.has(pattern)) return matcher;
  if (isLiteralGlob(pattern)) {
    matcher = (name) => name === pattern;
  } else {
    const source = toRegExpSource(pattern);
    if (typeof source === "string") {
      const re = new RegExp(`^${source}$`, "s");
      matcher = (name) => re.test(name);
    }
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, matcher);
  return matcher;
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function toRegExpSource(pattern: string): string | { error: string } {
  let out = "";
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === "*") {
      out += "[^/]*";
      i++;
    } else if (c === "?") {
      out += "[^/]";
      i++;
    } else if (c === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) return { error: `pattern ${JSON.stringify(pattern)} ends in an escaping backslash` };
      out += escapeRegExp(next);
      i += 2;
    } else if (c === "[") {
      const cls = readClass(pattern, i + 1);
      if ("error" in cls) return cls;
      out += cls.source;
      i = cls.end;
    } else {
      out += escapeRegExp(c);
      i++;
    }
  }
  return out;
}

/** One character of a class, escaped or not: "-" and "]" must be escaped (as in Go). */
function classChar(pattern: string, i: number): { char: string; end: number } | undefined {
  const c = pattern[i];
  if (c === undefined || c === "-" || c === "]") return undefined;
  if (c === "\\") {
    const next = pattern[i + 1];
    return next === undefined ? undefined : { char: next, end: i + 2 };
  }
  return { char: c, end: i + 1 };
}

function readClass(pattern: string, start: number): { source: string; end: number } | { error: string } {
  const bad = { error: `pattern ${JSON.stringify(pattern)} has a malformed character class` };
  let i = start;
  let negate = false;
  if (pattern[i] === "^") {
    negate = true;
    i++;
  }
  let body = "";
  let ranges = 0;
  for (;;) {
    if (pattern[i] === "]" && ranges > 0) break;
    const lo = classChar(pattern, i);
    if (lo === undefined) return bad;
    i = lo.end;
    let hi = lo;
    if (pattern[i] === "-") {
      const h = classChar(pattern, i + 1);
      if (h === undefined || h.char < lo.char) return bad;
      hi = h;
      i = h.end;
    }
    body += hi === lo ? escapeRegExp(lo.char) : `${escapeRegExp(lo.char)}-${escapeRegExp(hi.char)}`;
    ranges++;
  }
  return { source: negate ? `[^${body}]` : `[${body}]`, end: i + 1 };
}

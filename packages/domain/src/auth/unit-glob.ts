// Globs of unit names that scope a token: `*` any run of characters, `?` one character,
// `[abc]` / `[a-z]` / `[!abc]` one of a set; everything else stands for itself. Pure.

/** Why a glob cannot scope a token, or undefined. */
export function unitGlobError(glob: string): string | undefined {
  if (glob === "" || glob.length > 256) return `invalid unit glob ${JSON.stringify(glob)}: 1 to 256 characters`;
  if (/[\u0000-\u001f\u007f/]/.test(glob)) return `invalid unit glob ${JSON.stringify(glob)}: no control characters or '/'`;
  let depth = 0;
  for (const c of glob) {
    if (c === "[") depth++;
    else if (c === "]" && depth > 0) depth--;
  }
  if (depth !== 0) return `invalid unit glob ${JSON.stringify(glob)}: an unclosed '['`;
  return undefined;
}

/** A matcher of whole unit names for a valid glob (see unitGlobError). */
export function unitGlobMatcher(glob: string): (name: string) => boolean {
  let re = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let set = glob.slice(i + 1, end);
      const negate = set.startsWith("!");
      if (negate) set = set.slice(1);
      re += `[${negate ? "^" : ""}${set.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  const compiled = new RegExp(`${re}$`, "s");
  return (name) => compiled.test(name);
}

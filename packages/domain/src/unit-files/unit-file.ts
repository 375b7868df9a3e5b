// systemd unit files <-> ordered options, read as fleet 1.0 reads them (go-systemd's unit
// deserializer, as vendored in fleet v1.0.0), so that a file hashes here exactly as it does there:
//
//   [Section]            a section header; options belong to the last header above them
//   Name = value         whitespace around the name and the value is dropped
//   # or ; comment       ignored, as are blank lines; a comment whose line ends in a
//                        backslash (one trailing space forgiven) also swallows the next line
//   Value=a \            a line ending in a backslash continues the value: the backslash,
//     b                  the line break and the next line are KEPT in the value as written
//                        ("a \\\n  b"). A blank line ends a continuation (the value then ends
//                        in "\\\n"); so does a line that does not end in a backslash
//                        (trailing blanks or a CR after the backslash count as such).
//
// Options come out in file order grouped by section (a section that appears twice is merged
// into its first appearance): exactly the order fleet's Serialize writes, so the hash is the
// same and parseUnitFile(serializeUnitFile(x)) equals x.
//
// Where fleet would fail or silently drop text, this refuses with the line number: text before
// the first [Section] header (fleet skips it), a header without its "]" on the same line, an
// empty or nested section name, a line with no "=", an option without a name.
import type { UnitOption } from "../types.js";

export class UnitFileError extends Error {
  constructor(
    /** 1-based line number of the offending line (its first line, for a continued one). */
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = "UnitFileError";
  }
}

/** Go's unicode.IsSpace: what fleet strips around names and values. */
const SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const IS_SPACE = new RegExp(`^[${SPACE}]$`);
const EDGE_SPACE = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "g");

/** Go's strings.TrimSpace. */
function trimSpace(s: string): string {
  return s.replace(EDGE_SPACE, "");
}

const isComment = (c: string): boolean => c === "#" || c === ";";

/** A cursor over the file text, reading it the way fleet's lexer does. */
class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? "";
  }

  /** 1-based line number of `at` (the current position by default). */
  lineOf(at = this.pos): number {
    let line = 1;
    for (let i = 0; i < at && i < this.text.length; i++) if (this.text[i] === "\n") line++;
    return line;
  }

  /**
   * The rest of the current line without its "\n"; a CR is dropped only at the very end of
   * the file (fleet trims it before the "\n", so a CRLF line keeps its CR here). `eof`: no
   * "\n" ended the line.
   */
  toEndOfLine(): { line: string; eof: boolean } {
    const nl = this.text.indexOf("\n", this.pos);
    const end = nl === -1 ? this.text.length : nl;
    let line = this.text.slice(this.pos, end);
    this.pos = nl === -1 ? this.text.length : nl + 1;
    if (nl === -1 && line.endsWith("\r")) line = line.slice(0, -1);
    return { line, eof: nl === -1 };
  }

  /** Skips the rest of a comment line, and the lines a trailing backslash continues it onto. */
  skipComment(): void {
    for (;;) {
      const { line, eof } = this.toEndOfLine();
      const trimmed = line.endsWith(" ") ? line.slice(0, -1) : line;
      if (!trimmed.endsWith("\\") || eof) return;
    }
  }
}

function readSectionHeader(r: Reader): string {
  const start = r.pos; // just after "["
  const line = (): number => r.lineOf(start);
  const close = r.text.indexOf("]", start);
  const eol = r.text.indexOf("\n", start);
  if (close === -1 || (eol !== -1 && eol < close)) {
    const header = r.text.slice(start - 1, eol === -1 ? undefined : eol).replace(/\r$/, "");
    throw new UnitFileError(line(), `section header ${JSON.stringify(header)} is missing its closing "]"`);
  }
  const name = r.text.slice(start, close);
  r.pos = close + 1;
  const rest = trimSpace(r.toEndOfLine().line);
  if (rest !== "") throw new UnitFileError(line(), `unexpected text ${JSON.stringify(rest)} after section header`);
  if (name === "" || name.includes("[")) throw new UnitFileError(line(), `invalid section name ${JSON.stringify(name)}`);
  return name;
}

function readOption(r: Reader, section: string): UnitOption {
  const start = r.pos;
  let eq = start;
  while (eq < r.text.length && r.text[eq] !== "=" && r.text[eq] !== "\n" && r.text[eq] !== "\r") eq++;
  if (r.text[eq] !== "=") {
    const text = trimSpace(r.text.slice(start, eq));
    throw new UnitFileError(r.lineOf(start), `expected "Name=value", "[Section]" or a comment, got ${JSON.stringify(text)}`);
  }
  const name = trimSpace(r.text.slice(start, eq));
  r.pos = eq + 1;
  if (name === "") throw new UnitFileError(r.lineOf(start), `option without a name: ${JSON.stringify(`=${trimSpace(r.toEndOfLine().line)}`)}`);
  let value = "";
  for (;;) {
    const { line: text, eof } = r.toEndOfLine();
    if (trimSpace(text) === "") break;
    value += text;
    if (!text.endsWith("\\")) break;
    if (!eof) value += "\n";
  }
  // A value that ends in "\\\n" (a continuation ended by a blank line) keeps that line break.
  value = value.endsWith("\n") ? `${trimSpace(value)}\n` : trimSpace(value);
  return { section, name, value };
}

/** The options of a unit file, grouped by section. Throws UnitFileError on malformed input. */
export function parseUnitFile(text: string): UnitOption[] {
  const r = new Reader(text);
  const options: UnitOption[] = [];
  let section: string | undefined;
  while (!r.done) {
    const c = r.peek();
    if (IS_SPACE.test(c) || (c === "\ufeff" && r.pos === 0)) {
      r.pos++;
    } else if (isComment(c)) {
      r.pos++;
      r.skipComment();
    } else if (c === "[") {
      r.pos++;
      section = readSectionHeader(r);
    } else if (section === undefined) {
      const line = r.lineOf();
      const { line: rest } = r.toEndOfLine();
      const eq = rest.indexOf("=");
      if (eq > 0) throw new UnitFileError(line, `option ${JSON.stringify(trimSpace(rest.slice(0, eq)))} appears before any [Section] header`);
      throw new UnitFileError(line, `expected "[Section]" or a comment before any option, got ${JSON.stringify(trimSpace(rest))}`);
    } else {
      options.push(readOption(r, section));
    }
  }
  return groupBySection(options);
}

/** Options grouped by section in order of first appearance, order within a section kept. */
function groupBySection(options: readonly UnitOption[]): UnitOption[] {
  const sections = new Map<string, UnitOption[]>();
  for (const option of options) {
    const list = sections.get(option.section);
    if (list) list.push(option);
    else sections.set(option.section, [option]);
  }
  return [...sections.values()].flat();
}

/**
 * A unit file with these options: sections in order of first appearance, each option as
 * `Name=value` in its original order, a blank line between sections, a trailing newline.
 * This is byte for byte what fleet's unit.Serialize prints (and what it hashes).
 */
export function serializeUnitFile(options: readonly UnitOption[]): string {
  const blocks: string[] = [];
  let current: string | undefined;
  for (const option of groupBySection(options)) {
    if (option.section !== current) {
      blocks.push(`[${option.section}]\n`);
      current = option.section;
    }
    blocks[blocks.length - 1] += `${option.name}=${option.value}\n`;
  }
  return blocks.join("\n");
}

/** True when `s` ends in an odd run of backslashes: systemd would continue the line. */
function endsInContinuation(s: string): boolean {
  let n = 0;
  while (n < s.length && s[s.length - 1 - n] === "\\") n++;
  return n % 2 === 1;
}

/**
 * The unit file as written for systemd on a machine: serializeUnitFile's text, except that a
 * value ending in a lone backslash (no line break after it: written after trailing blanks or a
 * CR, at the end of a file, or through the HTTP API) gets one space after it, so systemd reads
 * it as the value it is and does not join the next option onto it. Continuations inside a value
 * ("\\\n") are written as they are: systemd joins them, as it would have joined the user's file.
 */
export function unitFileForSystemd(options: readonly UnitOption[]): string {
  if (!options.some((o) => endsInContinuation(o.value))) return serializeUnitFile(options);
  return serializeUnitFile(options.map((o) => (endsInContinuation(o.value) ? { ...o, value: `${o.value} ` } : o)));
}

/**
 * Why a stored option value cannot be accepted, or undefined. A line break is allowed only as
 * fleet's deserializer keeps it: right after a backslash (a continuation). Any other line break
 * (a bare "\n", any "\r") or a NUL would end the line for systemd and change the unit.
 */
export function unitOptionValueError(name: string, value: string): string | undefined {
  if (value.includes("\u0000")) return `value of ${name} contains a NUL character`;
  if (value.includes("\r")) return `value of ${name} contains a carriage return (a line break)`;
  for (let i = value.indexOf("\n"); i !== -1; i = value.indexOf("\n", i + 1)) {
    if (i === 0 || value[i - 1] !== "\\") {
      return `value of ${name} contains a line break that is not a continuation (a backslash at the end of the line)`;
    }
  }
  return undefined;
}

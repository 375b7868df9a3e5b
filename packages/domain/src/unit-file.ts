// systemd unit files <-> ordered options, read the way systemd reads them (systemd.syntax(7)):
//
//   [Section]            a section header; options belong to the last header above them
//   Name = value         whitespace around the name and the value is dropped
//   # or ; comment       ignored, as are empty lines
//   Value=a \            a trailing backslash joins the next line as is, the backslash
//     b                  becoming a space; comment lines inside a continuation are skipped;
//                        an escaped backslash (\\) at the end does not continue the line
//
// Repeated options are kept, in order (systemd appends or resets lists with them). A section
// that appears twice is merged into its first appearance, as systemd does, so the result is
// in canonical form: parseUnitFile(serializeUnitFile(x)) equals x. Anything else, an option
// before the first section included, is an error naming its line.
import type { UnitOption } from "./types.js";

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

/** systemd's whitespace: what it strips around names and values. */
function strip(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

function isComment(line: string): boolean {
  return line.startsWith("#") || line.startsWith(";");
}

interface LogicalLine {
  readonly number: number;
  readonly text: string;
}

/** True when the line ends in an unescaped backslash: it continues on the next line. */
function continues(line: string): boolean {
  let n = 0;
  while (n < line.length && line[line.length - 1 - n] === "\\") n++;
  return n % 2 === 1;
}

/** Physical lines joined across backslash continuations, comments and blank lines dropped. */
function logicalLines(text: string): LogicalLine[] {
  const physical = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  const out: LogicalLine[] = [];
  const emit = (number: number, raw: string): void => {
    const line = strip(raw);
    if (line !== "" && !isComment(line)) out.push({ number, text: line });
  };
  let pending: LogicalLine | undefined;
  for (let i = 0; i < physical.length; i++) {
    const raw = physical[i] ?? "";
    // Inside a continuation, comment lines are skipped; anything else is appended as is.
    if (pending !== undefined && isComment(strip(raw))) continue;
    const number = pending?.number ?? i + 1;
    const joined = (pending?.text ?? "") + raw;
    // Blanks after the backslash are forgiven, so no parsed value ever ends in a lone
    // backslash (which would turn into a continuation once serialized).
    const trimmed = joined.replace(/[ \t]+$/, "");
    if (continues(trimmed)) {
      pending = { number, text: trimmed.slice(0, -1) + " " };
      continue;
    }
    pending = undefined;
    emit(number, joined);
  }
  if (pending !== undefined) emit(pending.number, pending.text);
  return out;
}

/** The options of a unit file, in file order. Throws UnitFileError on malformed input. */
export function parseUnitFile(text: string): UnitOption[] {
  const options: UnitOption[] = [];
  let section: string | undefined;
  for (const { number, text: line } of logicalLines(text)) {
    if (line.startsWith("[")) {
      const close = line.indexOf("]");
      if (close === -1) throw new UnitFileError(number, `section header ${JSON.stringify(line)} is missing its closing "]"`);
      const rest = strip(line.slice(close + 1));
      if (rest !== "") throw new UnitFileError(number, `unexpected text ${JSON.stringify(rest)} after section header`);
      const name = line.slice(1, close);
      if (name === "" || name.includes("[")) throw new UnitFileError(number, `invalid section name ${JSON.stringify(name)}`);
      section = name;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq === -1) throw new UnitFileError(number, `expected "Name=value", "[Section]" or a comment, got ${JSON.stringify(line)}`);
    const name = strip(line.slice(0, eq));
    if (name === "") throw new UnitFileError(number, `option without a name: ${JSON.stringify(line)}`);
    if (section === undefined) throw new UnitFileError(number, `option ${JSON.stringify(name)} appears before any [Section] header`);
    options.push({ section, name, value: strip(line.slice(eq + 1)) });
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

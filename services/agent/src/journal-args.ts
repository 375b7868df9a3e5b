// The commands the agent runs for status and journal requests. Pure: validates everything that
// reaches a command line.
import { unitNameError } from "@fleet/domain";

export const JOURNAL_OUTPUT_MODES = [
  "short",
  "short-iso",
  "short-iso-precise",
  "short-precise",
  "short-monotonic",
  "short-unix",
  "verbose",
  "export",
  "json",
  "json-pretty",
  "json-sse",
  "cat",
  "with-unit",
] as const;

export const MAX_JOURNAL_LINES = 100_000;

export function statusArgs(unit: string): string[] {
  assertName(unit);
  return ["systemctl", "status", "--no-pager", "--full", "--lines=10", "--", unit];
}

export function journalArgs(o: { unit: string; lines: number; follow: boolean; output: string }): string[] {
  assertName(o.unit);
  const output = o.output === "" ? "short" : o.output;
  if (!(JOURNAL_OUTPUT_MODES as readonly string[]).includes(output)) {
    throw new Error(`invalid output mode "${o.output}": one of ${JOURNAL_OUTPUT_MODES.join(", ")}`);
  }
  if (!Number.isInteger(o.lines) || o.lines < 0 || o.lines > MAX_JOURNAL_LINES) {
    throw new Error(`invalid number of lines ${o.lines}: 0 to ${MAX_JOURNAL_LINES}`);
  }
  return ["journalctl", "--no-pager", `--unit=${o.unit}`, `--lines=${o.lines}`, `--output=${output}`, ...(o.follow ? ["--follow"] : [])];
}

function assertName(unit: string): void {
  const error = unitNameError(unit);
  if (error) throw new Error(error);
}

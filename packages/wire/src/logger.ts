// Structured logs (pino, JSON lines): every line names its service; callers add unit, machine
// and request ids as fields.
import { pino, type Logger } from "pino";

export type { Logger };

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * The pino level for `verbosity`: a level name, or fleet's numbers (0 = info, 1 = debug,
 * 2 and more = trace). Anything else is an error that names the option.
 */
export function logLevel(verbosity: string): string {
  const v = verbosity.trim().toLowerCase();
  if (LEVELS.includes(v)) return v;
  if (/^\d+$/.test(v)) return v === "0" ? "info" : v === "1" ? "debug" : "trace";
  throw new Error(`invalid value for verbosity: "${verbosity}" is not a number or one of ${LEVELS.join(", ")}`);
}

export function createLogger(service: string, verbosity = "info"): Logger {
  return pino({ name: service, level: logLevel(verbosity), base: { service, pid: process.pid } });
}

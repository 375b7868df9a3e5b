// Structured logs (pino, JSON lines on stdout): every line names its service and carries its
// level by name ("level":"info") and an ISO 8601 time ("time":"2026-11-30T18:00:00.000Z");
// callers add unit and machine ids as fields; the request id comes from the request's scope.
import { pino, type DestinationStream, type Logger } from "pino";
import { currentRequestId } from "./request-scope.js";

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

/** A service's logger; `destination` defaults to stdout (the journal, under systemd). */
export function createLogger(service: string, verbosity = "info", destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level: logLevel(verbosity),
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Inside a request's scope (request-scope.ts) every line names the request.
    mixin: () => {
      const requestId = currentRequestId();
      return requestId === undefined ? {} : { requestId };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

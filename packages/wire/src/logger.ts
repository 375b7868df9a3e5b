// Structured logs (pino, JSON lines): every line names its service; callers add unit, machine
// and request ids as fields.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(service: string, level = "info"): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}

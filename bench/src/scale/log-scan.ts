// Reads the services' JSON-line logs (pino) from a recorded offset on: warnings and errors by
// message, and the machines an engine declared lost ("machine lost: its units move").
import { closeSync, openSync, readSync, statSync } from "node:fs";

export const MACHINE_LOST_MSG = "machine lost: its units move";

export function logOffsets(files: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of files) {
    try {
      out[f] = statSync(f).size;
    } catch {
      out[f] = 0;
    }
  }
  return out;
}

function readFrom(file: string, offset: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const size = statSync(file).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString("utf8");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface LogScan {
  warnings: Record<string, number>;
  lost: string[];
}

/** Warnings and errors by message, and the lost machines' ids, in JSON-line log text. Pure. */
export function scanLogText(text: string): LogScan {
  const warnings: Record<string, number> = {};
  const lost: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let rec: { msg?: string; machineId?: string; level?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue;
    }
    const msg = String(rec.msg);
    if (rec.msg === MACHINE_LOST_MSG) lost.push(String(rec.machineId));
    if (typeof rec.level === "number" && rec.level >= 40) warnings[msg] = (warnings[msg] ?? 0) + 1;
  }
  return { warnings, lost };
}

/** scanLogText over each file's text since its offset, merged. */
export function scanLogsSince(offsets: Record<string, number>): LogScan {
  const warnings: Record<string, number> = {};
  const lost: string[] = [];
  for (const [file, offset] of Object.entries(offsets)) {
    const r = scanLogText(readFrom(file, offset));
    lost.push(...r.lost);
    for (const [k, v] of Object.entries(r.warnings)) warnings[k] = (warnings[k] ?? 0) + v;
  }
  return { warnings, lost };
}

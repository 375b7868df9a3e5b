// CPU time and memory of processes by PID, from /proc: CPU % over a window is the process's
// utime + stime ticks (fields 14 and 15 of /proc/<pid>/stat) spent in the window, over the
// window's length (100 % = one core busy); RSS is VmRSS of /proc/<pid>/status. Run-queue wait %
// is how long its main thread (the event loop) was runnable but waited for a core, from
// /proc/<pid>/schedstat: a saturated machine shows there before anything times out.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";

/** A process the bench watches, by name. */
export interface NamedProc {
  name: string;
  pid: number;
}

/** What stopping a group of processes did. */
export interface StopResult {
  stopped: string[];
  errors: string[];
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of /proc/<pid>/stat text, in ticks. Pure. */
export function cpuTicksOf(statText: string): number {
  const rest = statText.slice(statText.lastIndexOf(")") + 2).trim().split(/\s+/);
  // rest[0] is field 3; fields 14 and 15 are rest[11] and rest[12].
  return Number(rest[11]) + Number(rest[12]);
}

/** VmRSS of /proc/<pid>/status text, in KB. Pure. */
export function rssKbOf(statusText: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  return m ? Number(m[1]) : undefined;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export interface CpuSnapshot {
  at: number;
  ticks: Record<string, number>;
  waitNs: Record<string, number>;
}

/** A snapshot of the processes' CPU ticks and main-thread run-queue wait, for cpuPercent. */
export function cpuSnapshot(procs: readonly NamedProc[]): CpuSnapshot {
  const ticks: Record<string, number> = {};
  const waitNs: Record<string, number> = {};
  for (const p of procs) {
    const text = read(`/proc/${p.pid}/stat`);
    if (text) ticks[p.name] = cpuTicksOf(text);
    const sched = read(`/proc/${p.pid}/schedstat`);
    if (sched) waitNs[p.name] = Number(sched.split(" ")[1]);
  }
  return { at: performance.now(), ticks, waitNs };
}

/** % of the window each process's main thread waited for a core while runnable. */
export function runQueueWaitPercent(a: CpuSnapshot, b: CpuSnapshot): Record<string, number> {
  const ms = b.at - a.at;
  const out: Record<string, number> = {};
  for (const [name, ns] of Object.entries(b.waitNs)) {
    const before = a.waitNs[name];
    if (before === undefined) continue;
    out[name] = Math.round((1000 * (ns - before)) / 1e6 / ms) / 10;
  }
  return out;
}

/** CPU % of each process between two snapshots (100 = one core). */
export function cpuPercent(a: CpuSnapshot, b: CpuSnapshot): Record<string, number> {
  const seconds = (b.at - a.at) / 1000;
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(b.ticks)) {
    const before = a.ticks[name];
    if (before === undefined) continue;
    out[name] = Math.round((1000 * (t - before)) / TICKS_PER_SECOND / seconds) / 10;
  }
  return out;
}

/** RSS of each process now, in MB (one decimal). */
export function rssMb(procs: readonly NamedProc[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of procs) {
    const kb = rssKbOf(read(`/proc/${p.pid}/status`) ?? "");
    if (kb !== undefined) out[p.name] = Math.round(kb / 102.4) / 10;
  }
  return out;
}

export const load = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);

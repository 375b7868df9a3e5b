// Process plumbing: spawn with logs to files, liveness by PID (+ start time, so a reused PID
// is never mistaken for ours), terminate by PID only.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync } from "node:fs";
import { dirname } from "node:path";

export interface ProcRef {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells a reused PID apart. */
  startTime?: string;
}

/** Parses /proc/<pid>/stat text: state letter and start time. Pure. */
export function parseProcStat(text: string): { state: string; startTime: string; ppid: number } | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const state = rest[0];
  const ppid = Number(rest[1]);
  const startTime = rest[19];
  if (!state || startTime === undefined) return undefined;
  return { state, startTime, ppid };
}

function readStat(pid: number): ReturnType<typeof parseProcStat> {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

function otherThreadsLeft(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) => Number(tid) !== pid && readStat(Number(tid))?.state !== "Z");
  } catch {
    return false;
  }
}

export function procStartTime(pid: number): string | undefined {
  return readStat(pid)?.startTime;
}

/** Alive = exists, is not a zombie, and (if known) started when we recorded it. */
export function isAlive(ref: ProcRef | number): boolean {
  const r = typeof ref === "number" ? { pid: ref } : ref;
  if (!Number.isInteger(r.pid) || r.pid <= 1) return false;
  const st = readStat(r.pid);
  if (!st) return false;
  if (r.startTime !== undefined && st.startTime !== r.startTime) return false;
  // A zombie leader whose other threads are still exiting still holds its files and
  // sockets: that is not gone yet. A zombie alone (no reaper, e.g. PID 1 is not an init)
  // is gone.
  if (st.state === "Z" || st.state === "X") return otherThreadsLeft(r.pid);
  return true;
}

export const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** Thrown from a waitFor callback to stop waiting at once (e.g. the process died). */
export class WaitAborted extends Error {}

/** Polls until fn returns a truthy value or the timeout passes (then throws with `what`). */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e instanceof WaitAborted) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

export async function waitForExit(ref: ProcRef, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(ref)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

export function signal(ref: ProcRef, sig: NodeJS.Signals): boolean {
  if (!isAlive(ref)) return false;
  try {
    process.kill(ref.pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to graceMs, then SIGKILL and wait. Resolves true once the PID is gone. */
export async function terminate(ref: ProcRef, graceMs = 10_000): Promise<boolean> {
  if (!isAlive(ref)) return true;
  signal(ref, "SIGTERM");
  if (await waitForExit(ref, graceMs)) return true;
  signal(ref, "SIGKILL");
  return waitForExit(ref, 5_000);
}

/** Direct children of a PID (all its threads), from /proc/<pid>/task/<tid>/children. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      for (const c of text.split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      /* thread gone */
    }
  }
  return out;
}

export interface SpawnedProc extends ProcRef {
  startTime: string;
  child: ChildProcess;
  logFile: string;
}

export interface SpawnLoggedOptions {
  cmd: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** New session, unref'd: outlives this process (fleet-dev up). */
  detached?: boolean;
}

/** Spawns cmd with stdout+stderr appended to logFile; resolves once the PID is known. */
export async function spawnLogged(o: SpawnLoggedOptions): Promise<SpawnedProc> {
  mkdirSync(dirname(o.logFile), { recursive: true });
  const fd = openSync(o.logFile, "a");
  try {
    const child = spawn(o.cmd, o.args, {
      env: o.env ?? process.env,
      cwd: o.cwd,
      detached: o.detached ?? false,
      stdio: ["ignore", fd, fd],
    });
    await new Promise<void>((res, rej) => {
      child.once("spawn", () => res());
      child.once("error", rej);
    });
    if (o.detached) child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`spawning ${o.cmd} gave no pid`);
    const startTime = procStartTime(pid) ?? "";
    return { pid, startTime, child, logFile: o.logFile };
  } finally {
    closeSync(fd);
  }
}

/** Last lines of a log file, for error messages. */
export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines - 1).join("\n");
  } catch {
    return "(no log)";
  }
}

// The parent's side of the simulated machines: forks the worker processes (sim-worker.ts),
// hands each its share of machine ids, and asks them for counters, power losses and a stop.
// Workers are stopped by the PIDs recorded here, and only those.
import { fork, type ChildProcess } from "node:child_process";
import { setPriority } from "node:os";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { procStartTime, terminate } from "@fleet/launcher";
import type { StopResult } from "./proc-stats.js";
import type { FromWorker, SimConfig, ToWorker, WorkerStats } from "./protocol.js";

const WORKER = fileURLToPath(new URL("./sim-worker.js", import.meta.url));

/** The i-th simulated machine's id: 32 hex digits, the run's 8 then the index. Pure. */
export function simMachineId(runHex: string, i: number): string {
  return `${runHex}${i.toString(16).padStart(24, "0")}`;
}

/** Splits ids into groups of at most perWorker, as evenly as that allows. Pure. */
export function shares(ids: readonly string[], perWorker: number): string[][] {
  const workers = Math.max(1, Math.ceil(ids.length / perWorker));
  const out: string[][] = Array.from({ length: workers }, () => []);
  ids.forEach((id, i) => out[i % workers]!.push(id));
  return out;
}

type ToWorkerBody = ToWorker extends infer M ? (M extends { type: string } ? Omit<M, "seq"> : never) : never;

class Worker {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startTime: string;
  readonly exited: Promise<{ code: number | null; sig: NodeJS.Signals | null }>;
  private seq = 0;
  private readonly waiting = new Map<string, (msg: FromWorker) => void>();
  private error: string | undefined;

  constructor(
    readonly index: number,
    readonly ids: string[],
    readonly logFile: string,
    nice: number,
  ) {
    const fd = openSync(logFile, "a");
    try {
      this.child = fork(WORKER, [], { stdio: ["ignore", fd, fd, "ipc"] });
    } finally {
      closeSync(fd);
    }
    this.pid = this.child.pid ?? -1;
    if (this.pid > 0 && nice !== 0) setPriority(this.pid, nice);
    this.startTime = procStartTime(this.pid) ?? "";
    this.exited = new Promise((resolve) => this.child.once("exit", (code, sig) => resolve({ code, sig })));
    this.child.on("message", (msg: FromWorker) => {
      const w = this.waiting.get(msg.type === "stats" || msg.type === "killed" ? `${msg.type}:${msg.seq}` : msg.type);
      if (w) w(msg);
      if (msg.type === "error") this.error = msg.error;
    });
  }

  /** Sends msg and waits for the reply of the given type (the worker's exit fails it). */
  request<T extends FromWorker>(msg: ToWorkerBody, replyType: T["type"], timeoutMs: number): Promise<T> {
    const seq = ++this.seq;
    const key = replyType === "stats" || replyType === "killed" ? `${replyType}:${seq}` : replyType;
    return new Promise((resolve, reject) => {
      const done = (err: Error | undefined, value?: FromWorker) => {
        clearTimeout(timer);
        this.waiting.delete(key);
        if (err) reject(err);
        else resolve(value as T);
      };
      const timer = setTimeout(() => done(new Error(`worker ${this.index} (pid ${this.pid}) did not answer ${msg.type} within ${timeoutMs} ms (log ${this.logFile})`)), timeoutMs);
      this.waiting.set(key, (reply) => done(undefined, reply));
      void this.exited.then(({ code, sig }) => done(new Error(`worker ${this.index} (pid ${this.pid}) exited (code ${code}, signal ${sig})${this.error ? `: ${this.error}` : ""}; log ${this.logFile}`)));
      this.child.send({ ...msg, seq });
    });
  }
}

export interface SimulatorStats {
  machines: number;
  running: number;
  registrations: number;
  activeUnits: number;
  warnings: Record<string, number>;
  workerRssBytes: number[];
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export class Simulators {
  readonly workers: Worker[];
  private readonly byId = new Map<string, Worker>();

  constructor(o: { ids: string[]; perWorker: number; nice: number; logDir: string }) {
    mkdirSync(o.logDir, { recursive: true });
    this.workers = shares(o.ids, o.perWorker).map((ids, i) => new Worker(i + 1, ids, join(o.logDir, `sim-${i + 1}.log`), o.nice));
    for (const w of this.workers) for (const id of w.ids) this.byId.set(id, w);
  }

  get pids(): { name: string; pid: number; startTime: string; machines: number }[] {
    return this.workers.map((w) => ({ name: `sim-${w.index}`, pid: w.pid, startTime: w.startTime, machines: w.ids.length }));
  }

  /** Builds every machine (connections to NATS open; gRPC connects at the first call). */
  async init(config: SimConfig): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ type: "init", config, ids: w.ids }, "ready", 120_000)));
  }

  /** Starts every machine's loops, all at once or spread over rampMs. */
  go(rampMs = 0): void {
    for (const w of this.workers) w.child.send({ type: "go", rampMs } satisfies ToWorker);
  }

  /** Counters summed over the workers (warnings by message). */
  async stats(): Promise<SimulatorStats> {
    const all = await Promise.all(this.workers.map((w) => w.request<WorkerStats>({ type: "stats" }, "stats", 30_000)));
    const sum: SimulatorStats = { machines: 0, running: 0, registrations: 0, activeUnits: 0, warnings: {}, workerRssBytes: [], loopDelayP99Ms: 0, loopDelayMaxMs: 0 };
    for (const s of all) {
      sum.machines += s.machines;
      sum.running += s.running;
      sum.registrations += s.registrations;
      sum.activeUnits += s.activeUnits;
      sum.workerRssBytes.push(s.rssBytes);
      sum.loopDelayP99Ms = Math.max(sum.loopDelayP99Ms, s.loop.p99Ms);
      sum.loopDelayMaxMs = Math.max(sum.loopDelayMaxMs, s.loop.maxMs);
      for (const [k, v] of Object.entries(s.warnings)) sum.warnings[k] = (sum.warnings[k] ?? 0) + v;
    }
    return sum;
  }

  /** Power loss of these machines (no deregistration). */
  async kill(ids: string[]): Promise<void> {
    const groups = new Map<Worker, string[]>();
    for (const id of ids) {
      const w = this.byId.get(id);
      if (!w) continue;
      groups.set(w, [...(groups.get(w) ?? []), id]);
    }
    await Promise.all([...groups].map(([w, group]) => w.request({ type: "kill", ids: group }, "killed", 30_000)));
  }

  /** Asks every worker to stop its machines, then makes sure each recorded PID is gone. */
  async stop(): Promise<StopResult> {
    const stopped: string[] = [];
    const errors: string[] = [];
    await Promise.all(
      this.workers.map(async (w) => {
        try {
          if (w.child.connected) w.child.send({ type: "stop" } satisfies ToWorker);
        } catch {
          /* already gone */
        }
        const ok = await Promise.race([w.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
        if (ok || (await terminate({ pid: w.pid, startTime: w.startTime }, 5_000))) stopped.push(`sim-${w.index} (pid ${w.pid})`);
        else errors.push(`sim-${w.index} (pid ${w.pid}) did not exit`);
      }),
    );
    return { stopped, errors };
  }
}

// The parent's side of the simulated machines: forks the worker processes (sim-worker.mjs),
// hands each its share of machine ids, and asks them for counters, power losses and a stop.
// Workers are stopped by the PIDs recorded here, and only those.
import { fork } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { procStartTime, terminate } from "@fleet/launcher";

const WORKER = fileURLToPath(new URL("./sim-worker.mjs", import.meta.url));

/** The i-th simulated machine's id: 32 hex digits, the run's 8 then the index. Pure. */
export function simMachineId(runHex, i) {
  return `${runHex}${i.toString(16).padStart(24, "0")}`;
}

/** Splits ids into groups of at most perWorker, as evenly as that allows. Pure. */
export function shares(ids, perWorker) {
  const workers = Math.max(1, Math.ceil(ids.length / perWorker));
  const out = Array.from({ length: workers }, () => []);
  ids.forEach((id, i) => out[i % workers].push(id));
  return out;
}

class Worker {
  constructor(index, ids, logFile) {
    this.index = index;
    this.ids = ids;
    this.logFile = logFile;
    this.seq = 0;
    this.waiting = new Map();
    const fd = openSync(logFile, "a");
    try {
      this.child = fork(WORKER, [], { stdio: ["ignore", fd, fd, "ipc"] });
    } finally {
      closeSync(fd);
    }
    this.pid = this.child.pid;
    this.startTime = procStartTime(this.pid) ?? "";
    this.exited = new Promise((resolve) => this.child.once("exit", (code, sig) => resolve({ code, sig })));
    this.child.on("message", (msg) => {
      const w = this.waiting.get(msg.type === "stats" || msg.type === "killed" ? `${msg.type}:${msg.seq}` : msg.type);
      if (w) w(msg);
      if (msg.type === "error") this.error = msg.error;
    });
  }

  /** Sends msg and waits for the reply of the given type (the worker's exit fails it). */
  request(msg, replyType, timeoutMs) {
    const seq = ++this.seq;
    const key = replyType === "stats" || replyType === "killed" ? `${replyType}:${seq}` : replyType;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`worker ${this.index} (pid ${this.pid}) did not answer ${msg.type} within ${timeoutMs} ms (log ${this.logFile})`)), timeoutMs);
      const done = (err, value) => {
        clearTimeout(timer);
        this.waiting.delete(key);
        if (err) reject(err);
        else resolve(value);
      };
      this.waiting.set(key, (reply) => done(undefined, reply));
      void this.exited.then(({ code, sig }) => done(new Error(`worker ${this.index} (pid ${this.pid}) exited (code ${code}, signal ${sig})${this.error ? `: ${this.error}` : ""}; log ${this.logFile}`)));
      this.child.send({ ...msg, seq });
    });
  }
}

export class Simulators {
  /** @param {{ ids: string[], perWorker: number, logDir: string }} o */
  constructor(o) {
    mkdirSync(o.logDir, { recursive: true });
    this.workers = shares(o.ids, o.perWorker).map((ids, i) => new Worker(i + 1, ids, join(o.logDir, `sim-${i + 1}.log`)));
    this.byId = new Map();
    for (const w of this.workers) for (const id of w.ids) this.byId.set(id, w);
  }

  get pids() {
    return this.workers.map((w) => ({ name: `sim-${w.index}`, pid: w.pid, startTime: w.startTime, machines: w.ids.length }));
  }

  /** Builds every machine (connections to NATS open; gRPC connects at the first call). */
  async init(config) {
    await Promise.all(this.workers.map((w) => w.request({ type: "init", config, ids: w.ids }, "ready", 120_000)));
  }

  /** Starts every machine's loops, all at once or spread over rampMs. */
  go(rampMs = 0) {
    for (const w of this.workers) w.child.send({ type: "go", rampMs });
  }

  /** Counters summed over the workers (warnings by message). */
  async stats() {
    const all = await Promise.all(this.workers.map((w) => w.request({ type: "stats" }, "stats", 30_000)));
    const sum = { machines: 0, running: 0, registrations: 0, activeUnits: 0, warnings: {}, workerRssBytes: [], loopDelayP99Ms: 0, loopDelayMaxMs: 0 };
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
  async kill(ids) {
    const groups = new Map();
    for (const id of ids) {
      const w = this.byId.get(id);
      if (!groups.has(w)) groups.set(w, []);
      groups.get(w).push(id);
    }
    await Promise.all([...groups].map(([w, group]) => w.request({ type: "kill", ids: group }, "killed", 30_000)));
  }

  /** Asks every worker to stop its machines, then makes sure each recorded PID is gone. */
  async stop() {
    const stopped = [];
    const errors = [];
    await Promise.all(
      this.workers.map(async (w) => {
        try {
          if (w.child.connected) w.child.send({ type: "stop" });
        } catch {
          /* already gone */
        }
        const ok = await Promise.race([w.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))]);
        if (ok || (await terminate({ pid: w.pid, startTime: w.startTime }, 5_000))) stopped.push(`sim-${w.index} (pid ${w.pid})`);
        else errors.push(`sim-${w.index} (pid ${w.pid}) did not exit`);
      }),
    );
    return { stopped, errors };
  }
}

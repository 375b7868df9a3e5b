// A worker process of the scale bench: runs a share of the simulated machines (sim-machine.ts)
// and answers its parent over the IPC channel (protocol.ts):
//   parent -> {type: "init", config, ids}   worker -> {type: "ready"} (machines built)
//   parent -> {type: "go", rampMs}          heartbeat and reconcile loops start (spread over rampMs)
//   parent -> {type: "stats", seq}          worker -> {type: "stats", seq, ...counters}
//   parent -> {type: "kill", ids, seq}      those machines lose power; -> {type: "killed", seq}
//   parent -> {type: "stop"}                clean stop of every machine, then exit 0
// Logs (the agents' JSON lines) go to stdout, which the parent points at a file.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { pino, type Logger } from "pino";
import type { FromWorker, SimConfig, ToWorker, WorkerStats } from "./protocol.js";
import { giveEveryChannelItsOwnConnection } from "./own-connections.js";
import { createSimMachine, type SimMachine } from "./sim-machine.js";

// Each simulated machine gets its own HTTP/2 connection to the gateway (own-connections.ts).
giveEveryChannelItsOwnConnection();

/** Warnings and errors of the agents, by message: "heartbeat failed; retrying" -> n. */
const warnings: Record<string, number> = {};
function countingLogger(level: string): Logger {
  return pino({
    name: "agent",
    level,
    base: { service: "agent", pid: process.pid },
    hooks: {
      logMethod(args, method, levelValue) {
        if (levelValue >= 40) {
          const msg = (args as unknown[]).find((a): a is string => typeof a === "string") ?? "";
          warnings[msg] = (warnings[msg] ?? 0) + 1;
        }
        method.apply(this, args);
      },
    },
  });
}

const machines = new Map<string, SimMachine>();
// How late this process's event loop runs (all its machines share it): reported and reset at
// each stats request, so a simulator that cannot keep up shows in the figures.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const send = (msg: FromWorker) => process.send?.(msg);

function stats(seq: number): WorkerStats {
  let registrations = 0;
  let active = 0;
  const running: string[] = [];
  for (const m of machines.values()) {
    registrations += m.registrations;
    if (m.state === "running") {
      running.push(m.id);
      active += m.activeUnits();
    }
  }
  const mem = process.memoryUsage();
  const loop = { p99Ms: Math.round(loopDelay.percentile(99) / 1e5) / 10, maxMs: Math.round(loopDelay.max / 1e5) / 10 };
  loopDelay.reset();
  return { type: "stats", seq, machines: machines.size, running: running.length, registrations, activeUnits: active, warnings: { ...warnings }, rssBytes: mem.rss, loop };
}

async function init(config: SimConfig, ids: string[]): Promise<void> {
  const log = countingLogger(config.logLevel);
  for (const id of ids) {
    const dir = join(config.unitsDir, id);
    mkdirSync(dir, { recursive: true });
    machines.set(id, await createSimMachine({ id, gateway: config.gateway, natsServers: config.natsServers, ttlSeconds: config.ttlSeconds, reconcileSeconds: config.reconcileSeconds, dir, log }));
  }
  send({ type: "ready" });
}

async function stopAll(): Promise<void> {
  await Promise.all([...machines.values()].map((m) => m.stop().catch(() => undefined)));
  process.exit(0);
}

process.on("message", (msg: ToWorker) => {
  switch (msg.type) {
    case "init":
      init(msg.config, msg.ids).catch((err: unknown) => {
        send({ type: "error", error: String((err as Error)?.stack ?? err) });
        process.exit(1);
      });
      break;
    case "go": {
      const all = [...machines.values()];
      const rampMs = msg.rampMs ?? 0;
      all.forEach((m, i) => (rampMs > 0 ? setTimeout(() => m.start(), (i * rampMs) / all.length) : m.start()));
      break;
    }
    case "stats":
      send(stats(msg.seq));
      break;
    case "kill":
      for (const id of msg.ids) machines.get(id)?.kill();
      send({ type: "killed", seq: msg.seq });
      break;
    case "stop":
      void stopAll();
      break;
  }
});
// The parent gone (it was killed): stop too, never linger.
process.on("disconnect", () => process.exit(0));
process.once("SIGTERM", () => void stopAll());

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePorts, waitForTcp } from "./ports.js";
import { spawnLogged, terminate } from "./proc.js";

export const NATS_BIN = "/usr/sbin/nats-server";

export interface NatsOptions {
  dir: string;
  name?: string;
  detached?: boolean;
  timeoutMs?: number;
}

export interface NatsHandle {
  url: string;
  /** HTTP monitoring (/varz, /connz, /healthz). */
  monitorUrl: string;
  pid: number;
  startTime: string;
  logFile: string;
  argv: string[];
  stop(): Promise<void>;
}

/** nats-server's command line on loopback. Pure. */
export function natsArgs(o: { port: number; monitorPort: number }): string[] {
  return ["-a", "127.0.0.1", "-p", String(o.port), "-m", String(o.monitorPort)];
}

export async function startNatsLocal(o: NatsOptions): Promise<NatsHandle> {
  const name = o.name ?? "nats";
  const logFile = join(o.dir, `${name}.log`);
  mkdirSync(o.dir, { recursive: true });
  const [port, monitorPort] = (await freePorts(2)) as [number, number];
  const args = natsArgs({ port, monitorPort });
  const proc = await spawnLogged({ cmd: NATS_BIN, args, logFile, detached: o.detached });
  const stop = async () => {
    await terminate(proc, 10_000);
  };
  try {
    await waitForTcp("nats-server", "127.0.0.1", port, { timeoutMs: o.timeoutMs ?? 20_000, proc });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    monitorUrl: `http://127.0.0.1:${monitorPort}`,
    pid: proc.pid,
    startTime: proc.startTime,
    logFile,
    argv: [NATS_BIN, ...args],
    stop,
  };
}

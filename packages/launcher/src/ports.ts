import { readFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { isAlive, waitFor, logTail, WaitAborted, type ProcRef } from "./proc.js";

/** Where listening ports are drawn from: below the kernel's ephemeral range, so no outgoing
 * connection can take a port between the moment it is found free and the moment a server
 * binds it (a port the kernel hands out for `listen(0)` is an ephemeral one, and any
 * connection's source port may land on it). Pure: `rangeText` is the content of
 * /proc/sys/net/ipv4/ip_local_port_range, undefined where there is none. */
export function listeningPortRange(rangeText: string | undefined): { low: number; high: number } | undefined {
  const ephemeralLow = Number(/^\s*(\d+)/.exec(rangeText ?? "")?.[1] ?? 32_768);
  const low = 15_000;
  return ephemeralLow - low >= 2_000 ? { low, high: ephemeralLow } : undefined;
}

function readPortRange(): string | undefined {
  try {
    return readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
  } catch {
    return undefined;
  }
}

const range = listeningPortRange(readPortRange());
/** Ports this process handed out already: not handed out again, even once closed. */
const handedOut = new Set<number>();

function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(undefined));
    srv.listen(port, "127.0.0.1", () => {
      const addr = srv.address();
      const bound = typeof addr === "object" && addr ? addr.port : undefined;
      srv.close(() => resolve(bound));
    });
  });
}

/** A TCP port that is free on 127.0.0.1 right now, outside the ephemeral range where the
 * machine has one, and never one this process handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = range ? range.low + Math.floor(Math.random() * (range.high - range.low)) : 0;
    if (handedOut.has(candidate)) continue;
    const port = await listenOnce(candidate);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no free TCP port on 127.0.0.1 after 200 tries");
}

/** Distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) out.push(await freePort());
  return out;
}

export function tcpAccepts(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

/** Waits until host:port accepts TCP; fails early (with the log tail) if proc dies. */
export async function waitForTcp(
  what: string,
  host: string,
  port: number,
  opts: { timeoutMs: number; proc?: ProcRef & { logFile?: string } },
): Promise<void> {
  await waitFor(
    `${what} to accept TCP on ${host}:${port}`,
    async () => {
      if (opts.proc && !isAlive(opts.proc)) {
        const tail = opts.proc.logFile ? `\n--- ${opts.proc.logFile} ---\n${logTail(opts.proc.logFile)}` : "";
        throw new WaitAborted(`${what} (pid ${opts.proc.pid}) exited before it was ready${tail}`);
      }
      return tcpAccepts(host, port);
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 100 },
  );
}

/** "127.0.0.1:1234" -> {host, port}. Pure. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(addr.replace(/^[a-z]+:\/\//, ""));
  if (!m || !m[1] || !m[2]) throw new Error(`not host:port: ${addr}`);
  return { host: m[1], port: Number(m[2]) };
}

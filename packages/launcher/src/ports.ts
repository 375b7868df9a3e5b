import { createServer, connect } from "node:net";
import { isAlive, waitFor, logTail, WaitAborted, type ProcRef } from "./proc.js";

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("no port"))));
    });
  });
}

/** Distinct free ports (freePort can hand out the same one twice once it is closed). */
export async function freePorts(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await freePort());
  return [...out];
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

// Where HTTP API v1 listens: a unix socket (fleet's /var/run/fleet.sock) and/or TCP host:port.
// A socket file left by a process that died is replaced; one that still answers is not.
import { existsSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import type { Server } from "node:http";
import { restrictSocket } from "@fleet/wire";

/** host:port (or [v6]:port) into its parts; port 0 picks a free port. */
export function parseHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(address);
  const port = Number(m?.[3]);
  if (!m || !(port >= 0 && port <= 65535)) throw new Error(`invalid address ${JSON.stringify(address)}: expected host:port`);
  return { host: m[1] ?? m[2] ?? "", port };
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function listenOn(server: Server, target: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(err);
    server.once("error", fail);
    server.listen(target, () => {
      server.off("error", fail);
      resolve();
    });
  });
}

/**
 * Listens on a unix socket, replacing a stale socket file; the socket is mode 0660 (created so:
 * no moment where others may connect) with `group` when one is given.
 */
export async function listenUnix(server: Server, path: string, group = ""): Promise<void> {
  if (existsSync(path)) {
    if (await answers(path)) throw new Error(`${path} is in use by another process`);
    unlinkSync(path);
  }
  const umask = process.umask(0o117);
  try {
    await listenOn(server, { path });
  } finally {
    process.umask(umask);
  }
  try {
    restrictSocket(path, group, true);
  } catch (err) {
    server.close();
    throw err;
  }
}

/** Listens on host:port; resolves with the bound port. */
export async function listenTcp(server: Server, address: string): Promise<number> {
  const { host, port } = parseHostPort(address);
  await listenOn(server, { host, port });
  const bound = server.address();
  return typeof bound === "object" && bound !== null ? bound.port : port;
}

/** Stops accepting and closes idle connections; a unix socket's file is removed by node. */
export function closeServer(server: Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

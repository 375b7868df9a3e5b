// Listening on unix sockets (fleet's /var/run/fleet.sock) and TCP addresses.
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeFleetBackend } from "./fake-fleet-backend.js";
import { createHttpApiServer } from "./http-server.js";
import { closeServer, listenTcp, listenUnix, parseHostPort } from "./listen.js";

const dir = mkdtempSync(join(tmpdir(), "fleet-sock-"));
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => closeServer(s)));
});

function getOverSocket(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function apiServer(): Server {
  const backend = new FakeFleetBackend({ machines: [{ id: "a".repeat(32), publicIp: "10.0.0.1", metadata: {} }] });
  const server = createHttpApiServer({ backend, tokenLimit: 100, log: pino({ level: "silent" }) });
  servers.push(server);
  return server;
}

describe("listenUnix", () => {
  it("serves HTTP API v1 on a unix socket, and removes the file on close", async () => {
    const path = join(dir, "fleet.sock");
    const server = apiServer();
    await listenUnix(server, path);
    const r = await getOverSocket(path, "/fleet/v1/machines");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ machines: [{ id: "a".repeat(32), primaryIP: "10.0.0.1" }] });
    await closeServer(servers.pop() ?? server);
    expect(existsSync(path)).toBe(false);
  });

  it("replaces a socket file nobody answers on", async () => {
    const path = join(dir, "stale.sock");
    writeFileSync(path, "");
    await listenUnix(apiServer(), path);
    expect((await getOverSocket(path, "/fleet/v1/units")).status).toBe(200);
  });

  it("refuses a socket another process serves", async () => {
    const path = join(dir, "busy.sock");
    const other = createServer((_req, res) => res.end());
    servers.push(other);
    await new Promise<void>((resolve) => other.listen(path, resolve));
    await expect(listenUnix(apiServer(), path)).rejects.toThrow(`${path} is in use by another process`);
  });
});

describe("listenTcp", () => {
  it("binds host:port and reports the port", async () => {
    expect(await listenTcp(apiServer(), "127.0.0.1:0")).toBeGreaterThan(0);
  });
  it("parses host:port forms", () => {
    expect(parseHostPort("127.0.0.1:49501")).toEqual({ host: "127.0.0.1", port: 49501 });
    expect(parseHostPort("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(() => parseHostPort("nope")).toThrow('invalid address "nope": expected host:port');
  });
});

process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

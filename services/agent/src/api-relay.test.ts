// The API socket's relay, over real sockets: a unix socket in a temporary directory, and two
// TCP servers standing in for the api's gRPC and HTTP API v1 ports.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Server } from "node:net";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "@fleet/wire";
import { groupId } from "@fleet/wire";
import { ApiRelay, httpErrorResponse, sniffProtocol, type RelayTargets } from "./api-relay.js";

describe("sniffProtocol", () => {
  const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const cases: Array<{ name: string; bytes: string; want: ReturnType<typeof sniffProtocol> }> = [
    { name: "HTTP/2's whole preface: gRPC", bytes: preface, want: "grpc" },
    { name: "the preface and a SETTINGS frame after it: gRPC", bytes: `${preface}\x00\x00\x00\x04`, want: "grpc" },
    { name: "part of the preface: not yet known", bytes: "PRI * HT", want: undefined },
    { name: "nothing yet", bytes: "", want: undefined },
    { name: "an HTTP/1.1 request line", bytes: "GET /fleet/v1/machines HTTP/1.1\r\n", want: "http" },
    { name: "one byte that cannot start the preface", bytes: "G", want: "http" },
    { name: "PUT looks like the preface for one byte only", bytes: "PUT ", want: "http" },
  ];
  for (const c of cases) it(c.name, () => expect(sniffProtocol(Buffer.from(c.bytes, "latin1"))).toBe(c.want));
});

/** A TCP server that answers every connection with its name and the bytes it received first. */
function taggedServer(tag: string): Promise<{ server: Server; address: string }> {
  const server = createServer((s) => {
    s.once("data", (d: Buffer) => {
      if (tag === "http") {
        const body = JSON.stringify({ tag, got: d.toString("latin1").split("\r\n")[0] });
        s.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      } else {
        s.end(`${tag}:${d.toString("latin1").slice(0, 14)}`);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

function httpGet(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function rawExchange(socketPath: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    let out = "";
    s.on("data", (d: Buffer) => (out += d.toString("latin1")));
    s.on("close", () => resolve(out));
    s.on("error", reject);
    s.write(bytes);
  });
}

describe("ApiRelay", () => {
  let dir: string;
  let servers: Server[];
  let relay: ApiRelay | undefined;
  let targets: RelayTargets;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fleet-relay-"));
    servers = [];
  });
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (t: () => RelayTargets) => {
    relay = new ApiRelay(join(dir, "run", "fleet.sock"), t, createLogger("relay-test", "silent"));
    await relay.listen();
    return relay.socketPath;
  };

  it("sends HTTP/1.1 to the HTTP API's address and HTTP/2 (gRPC) to the gRPC one, byte for byte", async () => {
    const grpc = await taggedServer("grpc");
    const http = await taggedServer("http");
    servers.push(grpc.server, http.server);
    targets = { grpc: [grpc.address], http: [http.address] };
    const socket = await start(() => targets);
    expect(statSync(socket).mode & 0o777).toBe(0o660);

    const res = await httpGet(socket, "/fleet/v1/machines");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ tag: "http", got: "GET /fleet/v1/machines HTTP/1.1" });
    expect(await rawExchange(socket, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")).toBe("grpc:PRI * HTTP/2.0");
  });

  it("tries the next address when one refuses, and reads the addresses anew for each connection (a reload)", async () => {
    const dead = await taggedServer("dead");
    const deadAddress = dead.address;
    await new Promise<void>((r) => dead.server.close(() => r()));
    const http = await taggedServer("http");
    servers.push(http.server);
    targets = { grpc: [], http: [deadAddress, http.address] };
    const socket = await start(() => targets);
    expect((await httpGet(socket, "/fleet/v1/units")).status).toBe(200);

    targets = { grpc: [], http: [deadAddress] };
    const failed = await httpGet(socket, "/fleet/v1/units");
    expect(failed.status).toBe(502);
    expect(JSON.parse(failed.body).error.message).toMatch(/^no api answered/);
  });

  it("answers HTTP clients with fleet's JSON error when no HTTP API address is set, and hangs up on gRPC ones", async () => {
    const socket = await start(() => ({ grpc: [], http: [] }));
    const res = await httpGet(socket, "/fleet/v1/units");
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 502, message: "HTTP API v1 is not relayed on this machine: the agent's api_http_endpoint is not set" } });
    expect(await rawExchange(socket, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")).toBe("");
  });

  it("replaces a stale socket file, and refuses one that another process serves", async () => {
    const first = await start(() => ({ grpc: [], http: [] }));
    const other = new ApiRelay(first, () => ({ grpc: [], http: [] }), createLogger("relay-test", "silent"));
    await expect(other.listen()).rejects.toThrow("is in use by another process");
  });

  it("writes a well-formed HTTP error", () => {
    expect(httpErrorResponse(502, "x")).toBe('HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: 36\r\nConnection: close\r\n\r\n{"error":{"code":502,"message":"x"}}');
  });
});

describe("groupId", () => {
  it("finds a group's id in a group file, and nothing for a group or file that is not there", () => {
    const dir = mkdtempSync(join(tmpdir(), "group-"));
    writeFileSync(join(dir, "group"), "root:x:0:\nfleet:x:450:core\nweird:x:abc:\n");
    expect(groupId("fleet", join(dir, "group"))).toBe(450);
    expect(groupId("weird", join(dir, "group"))).toBeUndefined();
    expect(groupId("nobody-here", join(dir, "group"))).toBeUndefined();
    expect(groupId("fleet", join(dir, "missing"))).toBeUndefined();
  });
});

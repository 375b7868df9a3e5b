// fleet's API on every machine: fleetd served its HTTP API on /var/run/fleet.sock, so fleetctl
// with no flags worked on any machine. The agent serves that socket and relays each connection,
// byte for byte, to the api:
//
//   client ──unix socket──▶ agent: first bytes ──"PRI * HTTP/2.0"──▶ api_endpoint (gRPC)
//                                              └──anything else────▶ api_http_endpoint (HTTP API v1)
//
// Both over TLS when the agent has tls_* files (an api with a certificate serves both so); the
// client on the socket speaks plaintext, as to fleetd's.
//
// gRPC clients (fleetctl --endpoint grpc+unix:///var/run/fleet.sock) start with HTTP/2's
// connection preface; HTTP API v1 clients (fleet's fleetctl, curl --unix-socket, our fleetctl's
// default when the socket exists) with an HTTP/1.1 request line. Every byte the client sees
// comes from the api; the relay parses nothing else. Targets are read for each new connection,
// so a reload (SIGHUP) applies to the next one.
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import { connect as netConnect, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { restrictSocket, type Logger } from "@fleet/wire";

export type RelayProtocol = "grpc" | "http";

const H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/**
 * Which protocol a client speaks, from the bytes it sent first: gRPC (HTTP/2's connection
 * preface) or HTTP/1.x (anything else); undefined while too few have come to tell. Pure.
 */
export function sniffProtocol(first: Uint8Array): RelayProtocol | undefined {
  const text = Buffer.from(first.subarray(0, H2_PREFACE.length)).toString("latin1");
  if (!H2_PREFACE.startsWith(text)) return "http";
  return text.length === H2_PREFACE.length ? "grpc" : undefined;
}

/** An HTTP API v1 error answer (fleet's JSON error entity), for when the api cannot be reached. Pure. */
export function httpErrorResponse(status: 502 | 503, message: string): string {
  const body = JSON.stringify({ error: { code: status, message } });
  const reason = status === 502 ? "Bad Gateway" : "Service Unavailable";
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

export interface RelayTargets {
  /** The api's gRPC addresses (host:port), tried in turn. */
  readonly grpc: readonly string[];
  /** The api's HTTP API v1 addresses (host:port), tried in turn. */
  readonly http: readonly string[];
}

/** TLS material for the api's connections (it serves gRPC and HTTP API v1 over TLS when it has a certificate). */
export interface RelayTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** Most bytes a client may send before the relay knows where they go. */
const MAX_SNIFF_BYTES = 64;
/** How long connecting to one target may take before the next is tried. */
const CONNECT_TIMEOUT_MS = 5000;

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, "$1"), port: Number(address.slice(i + 1)) };
}

export class ApiRelay {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();

  constructor(
    readonly socketPath: string,
    private readonly targets: () => RelayTargets,
    private readonly log: Logger,
    private readonly tls: () => RelayTls | undefined = () => undefined,
  ) {}

  /**
   * Listens on the socket (mode 0660, group SOCKET_GROUP when the machine has that group, so
   * that its members, e.g. the user fleetctl --tunnel logs in as, may use it as they could
   * fleetd's), replacing a stale socket file; refuses one another process answers on.
   */
  async listen(): Promise<void> {
    mkdirSync(dirname(this.socketPath), { recursive: true });
    if (existsSync(this.socketPath)) {
      if (await answers(this.socketPath)) throw new Error(`${this.socketPath} is in use by another process`);
      unlinkSync(this.socketPath);
    }
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err) => this.log.warn({ socket: this.socketPath, err: err.message }, "api relay socket error"));
    restrictSocket(this.socketPath, SOCKET_GROUP, false);
    this.server = server;
  }

  /** Stops listening and ends every relayed connection. */
  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.open) s.destroy();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.open.add(client);
    client.once("close", () => this.open.delete(client));
    client.on("error", () => client.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const protocol = sniffProtocol(buffered) ?? (buffered.length >= MAX_SNIFF_BYTES ? "http" : undefined);
      if (!protocol) return;
      client.off("data", onData);
      client.pause();
      this.relay(client, protocol, buffered);
    };
    client.on("data", onData);
  }

  private relay(client: Socket, protocol: RelayProtocol, first: Buffer): void {
    const targets = protocol === "grpc" ? this.targets().grpc : this.targets().http;
    const fail = (message: string) => {
      this.log.warn({ protocol, err: message }, "api relay: the api cannot be reached");
      if (protocol === "http") client.end(httpErrorResponse(502, message));
      else client.destroy();
    };
    if (targets.length === 0) {
      fail(protocol === "http" ? "HTTP API v1 is not relayed on this machine: the agent's api_http_endpoint is not set" : "gRPC is not relayed on this machine: the agent's api_endpoint is not set");
      return;
    }
    const attempt = (i: number, errors: string[]) => {
      const target = targets[i];
      if (target === undefined) {
        fail(`no api answered (${errors.join("; ")})`);
        return;
      }
      const upstream = this.connectTo(protocol, target);
      const timer = setTimeout(() => upstream.destroy(new Error("timed out connecting")), CONNECT_TIMEOUT_MS);
      const onError = (err: Error) => {
        clearTimeout(timer);
        upstream.destroy();
        attempt(i + 1, [...errors, `${target}: ${err.message}`]);
      };
      upstream.once("error", onError);
      upstream.once(this.tls() ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        upstream.off("error", onError);
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        this.open.add(upstream);
        upstream.once("close", () => this.open.delete(upstream));
        this.log.debug({ protocol, target }, "api relay: connection relayed");
        upstream.write(first);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        upstream.on("error", () => client.destroy());
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
    };
    attempt(0, []);
  }

  private connectTo(protocol: RelayProtocol, target: string): Socket {
    const { host, port } = hostPort(target);
    const tls = this.tls();
    if (!tls) return netConnect({ host, port });
    return tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, ALPNProtocols: [protocol === "grpc" ? "h2" : "http/1.1"], ...tls });
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Members of this group may use the socket (fleetd's was open to every local user). */
export const SOCKET_GROUP = "fleet";


// What --endpoint names, and so which protocol fleetctl speaks. Pure.
//
//   host:port, grpc://host:port      the api service's FleetService (gRPC)
//   grpc+unix:///path                the same over a unix socket
//   http://host:port[/], https://... fleet's HTTP API v1 (this api's, or an original fleet's)
//   unix:///path                     HTTP API v1 on a unix socket (fleet's /var/run/fleet.sock)
//
// Of a comma-separated list (fleet's etcd-era endpoints) only the first is used.

export type Endpoint =
  | { readonly kind: "grpc"; readonly address: string }
  | { readonly kind: "http"; readonly url: string }
  | { readonly kind: "http-unix"; readonly socketPath: string };

export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EndpointError";
  }
}

export function parseEndpoint(value: string): Endpoint {
  const first = (value.split(",")[0] ?? "").trim();
  if (first === "") throw new EndpointError("no endpoint given");
  if (/^https?:\/\//.test(first)) {
    let url: URL;
    try {
      url = new URL(first);
    } catch {
      throw new EndpointError(`invalid endpoint ${JSON.stringify(first)}`);
    }
    return { kind: "http", url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}` };
  }
  if (first.startsWith("unix://")) {
    const socketPath = first.slice("unix://".length);
    if (!socketPath.startsWith("/")) throw new EndpointError(`invalid endpoint ${JSON.stringify(first)}: expected unix:///absolute/path`);
    return { kind: "http-unix", socketPath };
  }
  if (first.startsWith("grpc+unix://")) return { kind: "grpc", address: first.slice("grpc+".length) };
  const address = first.replace(/^grpc:\/\//, "").replace(/\/+$/, "");
  if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address)) {
    throw new EndpointError(`invalid endpoint ${JSON.stringify(first)}: expected host:port, http://host:port or unix:///path`);
  }
  return { kind: "grpc", address };
}

/** fleet's API socket on a machine: fleetd served it, and our agent serves it (relayed to the api). */
export const FLEET_SOCKET_PATH = "/var/run/fleet.sock";

/**
 * The endpoint when none is given (no --endpoint, no FLEETCTL_ENDPOINT): on a machine that
 * serves fleet's socket, fleet's own default (HTTP API v1 on it, which the agent relays and an
 * api on this host serves too), else `fallback` (the api's gRPC port on this host). Pure.
 */
export function defaultEndpoint(fleetSocketExists: boolean, fallback: string): string {
  return fleetSocketExists ? `unix://${FLEET_SOCKET_PATH}` : fallback;
}

/** The endpoint shown in messages. */
export function describeEndpoint(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case "grpc":
      return endpoint.address;
    case "http":
      return endpoint.url;
    case "http-unix":
      return `unix://${endpoint.socketPath}`;
  }
}

/** What an ssh tunnel must forward to reach the endpoint: host:port or a socket path. */
export function tunnelTarget(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case "grpc":
      return endpoint.address.startsWith("unix://") ? endpoint.address.slice("unix://".length) : endpoint.address;
    case "http":
      return new URL(endpoint.url).host || "127.0.0.1:80";
    case "http-unix":
      return endpoint.socketPath;
  }
}

/** The same endpoint reached through a local forward at 127.0.0.1:port. */
export function throughLocalPort(endpoint: Endpoint, port: number): Endpoint {
  switch (endpoint.kind) {
    case "grpc":
      return { kind: "grpc", address: `127.0.0.1:${port}` };
    case "http": {
      const url = new URL(endpoint.url);
      return { kind: "http", url: `http://127.0.0.1:${port}${url.pathname.replace(/\/+$/, "")}` };
    }
    case "http-unix":
      return { kind: "http", url: `http://127.0.0.1:${port}` };
  }
}

import { gatewayEndpointOption, metricsConfigSchema, tlsConfigSchema } from "@fleet/wire";
import { isRole, type ConfigSchema, type ResolvedConfig } from "@fleet/domain";

export const DEFAULT_API_UNIX_SOCKET = "/var/run/fleet.sock";

export const apiConfigSchema = {
  ...tlsConfigSchema,
  ...metricsConfigSchema,
  gateway_endpoint: gatewayEndpointOption,
  api_listen: { kind: "address", default: "127.0.0.1:49500", help: "gRPC listen address of the public API (fleetctl)" },
  api_unix_socket: {
    kind: "string",
    default: DEFAULT_API_UNIX_SOCKET,
    help: 'unix socket of HTTP API v1 (fleet\'s /var/run/fleet.sock); "" serves none',
  },
  api_unix_socket_group: {
    kind: "string",
    default: "",
    help: "group given the unix socket of HTTP API v1 (mode 0660: its owner and this group may use it); empty keeps the api's own group",
  },
  api_http_listen: { kind: "address", default: "", help: "TCP host:port of HTTP API v1; empty serves none" },
  token_limit: { kind: "int", default: "100", help: "page size of HTTP API v1 lists (nextPageToken)" },
  auth: {
    kind: "bool",
    default: "false",
    help: "callers must authenticate (a token or a client certificate) and are held to their role; off: anyone who reaches the api is an admin, so it serves only loopback and its unix socket",
  },
  auth_bootstrap_token_file: { kind: "string", default: "", help: "file holding an admin token (one line) the api accepts besides those in the registry: the first admin's" },
  agent_tls_server_name: {
    kind: "string",
    default: "",
    help: "the name agents' certificates are checked against instead of the address the api dials (one certificate shared by every agent, as in deploy/k8s); empty: the address",
  },
  auth_certificate_roles: { kind: "string", default: "", help: "client certificate common names and their roles, `name=role,name=role` (mutual TLS: tls_ca_file)" },
  api_unix_socket_role: { kind: "string", default: "", help: "role of callers on api_unix_socket, whom the socket's mode and group let in; empty: they authenticate like others" },
  verbosity: { kind: "string", default: "info", help: "log level: error, warn, info, debug" },
} as const satisfies ConfigSchema;

export type ApiConfig = ResolvedConfig<typeof apiConfigSchema>;

/** Checks what the schema's kinds cannot; the message names the option. */
export function validateApiConfig(config: ApiConfig): void {
  if (!(Number.isInteger(config.token_limit) && config.token_limit >= 1 && config.token_limit <= 65535)) {
    throw new Error(`invalid value for token_limit: "${config.token_limit}" is not between 1 and 65535`);
  }
  const socket = config.api_unix_socket.replace(/^unix:\/\//, "");
  if (socket !== "" && !socket.startsWith("/")) {
    throw new Error(`invalid value for api_unix_socket: "${config.api_unix_socket}" is not an absolute path`);
  }
  if (config.api_unix_socket_role !== "" && !isRole(config.api_unix_socket_role)) {
    throw new Error(`invalid value for api_unix_socket_role: "${config.api_unix_socket_role}" is not viewer, operator or admin`);
  }
  if (!config.auth) {
    for (const option of ["api_listen", "api_http_listen"] as const) {
      const address = config[option];
      if (address !== "" && !isLoopbackAddress(address)) {
        throw new Error(`${option} ${address} is not a loopback address: with auth off anyone who reaches the api is an admin, so it serves only loopback and its unix socket (set auth = true)`);
      }
    }
  }
}

/** Whether a listen address is reachable from this host only (loopback or a unix socket). */
export function isLoopbackAddress(address: string): boolean {
  if (address.startsWith("unix:")) return true;
  const host = address.slice(0, address.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1");
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The socket path of api_unix_socket ("unix:///x" and "/x" alike), "" for none. */
export function unixSocketPath(config: ApiConfig): string {
  return config.api_unix_socket.replace(/^unix:\/\//, "");
}

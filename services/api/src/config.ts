import { gatewayEndpointOption, tlsConfigSchema } from "@fleet/wire";
import type { ConfigSchema, ResolvedConfig } from "@fleet/domain";

export const DEFAULT_API_UNIX_SOCKET = "/var/run/fleet.sock";

export const apiConfigSchema = {
  ...tlsConfigSchema,
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
}

/** The socket path of api_unix_socket ("unix:///x" and "/x" alike), "" for none. */
export function unixSocketPath(config: ApiConfig): string {
  return config.api_unix_socket.replace(/^unix:\/\//, "");
}

import type { ConfigSchema, ResolvedConfig } from "@fleet/domain";
import { gatewayEndpointOption, metricsConfigSchema, tlsConfigSchema } from "@fleet/wire";
import { isLeaveOnStop, LEAVE_ON_STOP_VALUES } from "./shutdown-intent.js";

export const agentConfigSchema = {
  ...tlsConfigSchema,
  ...metricsConfigSchema,
  gateway_endpoint: gatewayEndpointOption,
  nats_servers: { kind: "list", default: "nats://127.0.0.1:4222", help: "NATS URLs for reconcile hints" },
  public_ip: { kind: "string", default: "", help: "IP shown for this machine (default: first non-loopback IPv4)" },
  metadata: { kind: "metadata", default: "", help: "this machine's metadata, k=v,k=v" },
  agent_ttl: { kind: "seconds", default: "30s", help: "TTL of the machine's registration; it is gone this long after the agent dies" },
  agent_reconcile_interval: { kind: "seconds", default: "5", help: "seconds between agent reconcile passes without hints" },
  agent_listen: { kind: "string", default: "", help: "where the agent serves status and journals to the api (default <public_ip>:<any free port>)" },
  agent_api_identities: {
    kind: "list",
    default: "fleet-api",
    help: "certificate common names of the api, the only callers of the agent's AgentService under mutual TLS",
  },
  units_dir: { kind: "string", default: "/run/fleet/units", help: "where the agent writes unit files" },
  machine_id_file: { kind: "string", default: "/etc/machine-id", help: "file holding this machine's 32-hex id" },
  agent_state_dir: { kind: "string", default: "/run/fleet", help: "the agent's instance id for this boot and its agent-state.json" },
  agent_leave_on_stop: {
    kind: "string",
    default: "auto",
    help: "whether a SIGTERM makes the machine leave the cluster: auto (when systemd stops the agent's unit, not on a restart), always, never",
  },
  api_endpoint: { kind: "list", default: "", help: "the api's gRPC address(es): gRPC clients of agent_api_socket are relayed there" },
  api_http_endpoint: { kind: "list", default: "", help: "the api's HTTP API v1 address(es): HTTP clients of agent_api_socket are relayed there" },
  agent_api_socket: {
    kind: "string",
    default: "/var/run/fleet.sock",
    help: "where the agent serves fleet's API on this machine (relayed to the api), when api_endpoint or api_http_endpoint is set",
  },
  verbosity: { kind: "string", default: "info", help: "log level: error, warn, info, debug" },
} as const satisfies ConfigSchema;

export type AgentConfig = ResolvedConfig<typeof agentConfigSchema>;

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/** Checks what the schema's kinds cannot; the message names the option. */
export function validateAgentConfig(config: AgentConfig): void {
  if (!isLeaveOnStop(config.agent_leave_on_stop)) {
    throw new Error(`invalid value for agent_leave_on_stop: "${config.agent_leave_on_stop}" is not one of ${LEAVE_ON_STOP_VALUES.join(", ")}`);
  }
  for (const option of ["api_endpoint", "api_http_endpoint"] as const) {
    for (const entry of config[option]) {
      const address = option === "api_http_endpoint" ? entry.replace(/^http:\/\//, "").replace(/\/+$/, "") : entry;
      if (!HOST_PORT.test(address)) throw new Error(`invalid value for ${option}: "${entry}" is not host:port`);
    }
  }
  const socket = config.agent_api_socket.replace(/^unix:\/\//, "");
  if (socket !== "" && !socket.startsWith("/")) throw new Error(`invalid value for agent_api_socket: "${config.agent_api_socket}" is not an absolute path`);
}

/** host:port of each api_http_endpoint entry (an http:// prefix is accepted). */
export function httpTargets(config: AgentConfig): string[] {
  return config.api_http_endpoint.map((e) => e.replace(/^http:\/\//, "").replace(/\/+$/, ""));
}

/** The socket path of agent_api_socket ("unix:///x" and "/x" alike), "" for none. */
export function apiSocketPath(config: AgentConfig): string {
  return config.agent_api_socket.replace(/^unix:\/\//, "");
}

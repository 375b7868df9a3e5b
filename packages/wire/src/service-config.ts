// Loads a service's configuration: --config FILE (default /etc/fleet/fleet.conf, optional when
// absent at the default path) then FLEET_ environment variables. Errors name the option.
import { existsSync, readFileSync } from "node:fs";
import { ConfigError, parseConfigFile, resolveConfig, type ConfigSchema, type OptionSpec, type ResolvedConfig } from "@fleet/domain";
import { GATEWAY_ENDPOINT_OPTION, gatewayEndpoints } from "./registry-connection.js";

export const DEFAULT_CONFIG_PATH = "/etc/fleet/fleet.conf";

/** Options any fleet.conf may hold, read by one service or another. */
export const ALL_OPTION_NAMES = [
  "etcd_servers",
  "etcd_key_prefix",
  "etcd_request_timeout",
  "etcd_cafile",
  "etcd_certfile",
  "etcd_keyfile",
  "etcd_username",
  "etcd_password",
  "nats_servers",
  "hint_spread_rate",
  "gateway_listen",
  "gateway_endpoint",
  "api_listen",
  "api_http_listen",
  "api_unix_socket",
  "public_ip",
  "metadata",
  "agent_ttl",
  "engine_reconcile_interval",
  "engine_id",
  "engine_lease_ttl",
  "disable_engine",
  "token_limit",
  "verbosity",
  "units_dir",
  "machine_id_file",
  "agent_reconcile_interval",
  "agent_listen",
  "agent_state_dir",
  "agent_leave_on_stop",
  "agent_api_socket",
  "api_endpoint",
  "api_http_endpoint",
  "tls_cert_file",
  "tls_key_file",
  "tls_ca_file",
  "engine_unhealthy_threshold",
  "agent_api_identities",
  "gateway_control_plane_identities",
  "gateway_agent_identities",
  "audit_retention",
  "auth",
  "auth_bootstrap_token_file",
  "auth_certificate_roles",
  "agent_tls_server_name",
  "api_unix_socket_role",
  "api_unix_socket_group",
  "metrics_listen",
] as const;

/**
 * gateway_endpoint, as the agent, the engine and the api read it: one registry-gateway
 * host:port, or several, comma-separated, to fail over between (RegistryConnection).
 * loadServiceConfig checks every entry.
 */
export const gatewayEndpointOption = {
  kind: "string",
  default: "127.0.0.1:49400",
  help: "registry-gateway gRPC address, or several comma-separated (host:port,host:port) to fail over between",
} as const satisfies OptionSpec;

export function configPathFromArgv(argv: readonly string[]): { path: string; explicit: boolean } {
  const i = argv.findIndex((a) => a === "--config" || a.startsWith("--config="));
  if (i < 0) return { path: process.env.FLEET_CONFIG ?? DEFAULT_CONFIG_PATH, explicit: process.env.FLEET_CONFIG !== undefined };
  const arg = argv[i] ?? "";
  const path = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[i + 1];
  if (!path) throw new Error("--config needs a file path");
  return { path, explicit: true };
}

export function loadServiceConfig<S extends ConfigSchema>(schema: S, argv = process.argv.slice(2), env = process.env): ResolvedConfig<S> {
  const { path, explicit } = configPathFromArgv(argv);
  let file = new Map<string, string>();
  if (explicit || existsSync(path)) file = parseConfigFile(readFileSync(path, "utf8"), path);
  const config = resolveConfig(schema, file, env, ALL_OPTION_NAMES);
  if (GATEWAY_ENDPOINT_OPTION in schema) {
    try {
      gatewayEndpoints(String((config as Record<string, unknown>)[GATEWAY_ENDPOINT_OPTION]));
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  return config;
}

/** Runs main; a startup error is printed on stderr and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`fatal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

import { DEFAULT_HINT_SPREAD_RATE, type ConfigSchema, type ResolvedConfig } from "@fleet/domain";
import { metricsConfigSchema, tlsConfigSchema } from "@fleet/wire";

export const gatewayConfigSchema = {
  ...tlsConfigSchema,
  ...metricsConfigSchema,
  etcd_servers: { kind: "list", default: "http://127.0.0.1:2379", help: "etcd client URLs, comma separated" },
  etcd_key_prefix: { kind: "string", default: "/fleet/", help: "prefix of every key fleet writes in etcd" },
  etcd_request_timeout: { kind: "seconds", default: "1s", help: "deadline of each attempt of an etcd request (a retry gets a fresh one)" },
  etcd_username: { kind: "string", default: "", help: "etcd user (auth)" },
  etcd_password: { kind: "string", default: "", help: "etcd password (auth)" },
  etcd_cafile: { kind: "string", default: "", help: "PEM CA that etcd's certificate must be signed by (https etcd_servers)" },
  etcd_certfile: { kind: "string", default: "", help: "PEM client certificate presented to etcd" },
  etcd_keyfile: { kind: "string", default: "", help: "PEM key of etcd_certfile" },
  nats_servers: { kind: "list", default: "nats://127.0.0.1:4222", help: "NATS URLs for reconcile hints" },
  hint_spread_rate: {
    kind: "int",
    default: String(DEFAULT_HINT_SPREAD_RATE),
    help: "machines a second that a global unit's change wakes: every agent hears it, and they spread their passes over machines / rate seconds (at most 60 s, and at most each agent's reconcile interval; none under 0.1 s); 0 wakes them all at once",
  },
  gateway_listen: { kind: "address", default: "127.0.0.1:49400", help: "gRPC listen address of the registry-gateway" },
  gateway_control_plane_identities: {
    kind: "list",
    default: "fleet-api,fleet-engine,fleet-registry-gateway",
    help: "certificate common names allowed every RegistryService call under mutual TLS; an agent's certificate names its machine id and may act only for that machine",
  },
  gateway_agent_identities: {
    kind: "list",
    default: "",
    help: "certificate common names every agent may share under mutual TLS (where one certificate per machine id cannot be issued, as on Kubernetes): they may make the agents' calls for any machine",
  },
  audit_retention: { kind: "seconds", default: "168h", help: "how long the api's audit entries are kept in etcd" },
  verbosity: { kind: "string", default: "info", help: "log level: error, warn, info, debug" },
} as const satisfies ConfigSchema;

export type GatewayConfig = ResolvedConfig<typeof gatewayConfigSchema>;

/** Checks what the schema's kinds cannot; the message names the option. */
export function validateGatewayConfig(config: GatewayConfig): void {
  if (config.hint_spread_rate < 0) {
    throw new Error(`invalid value for hint_spread_rate: "${config.hint_spread_rate}" is not 0 (off) or a number of machines a second`);
  }
}

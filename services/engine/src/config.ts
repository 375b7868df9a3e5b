import type { ConfigSchema } from "@fleet/domain";
import { gatewayEndpointOption, metricsConfigSchema, tlsConfigSchema } from "@fleet/wire";

export const engineConfigSchema = {
  ...tlsConfigSchema,
  ...metricsConfigSchema,
  gateway_endpoint: gatewayEndpointOption,
  nats_servers: { kind: "list", default: "nats://127.0.0.1:4222", help: "NATS URLs for reconcile hints" },
  engine_reconcile_interval: { kind: "seconds", default: "2", help: "seconds between reconcile rounds without hints" },
  engine_lease_ttl: { kind: "seconds", default: "5", help: "TTL of the engine leadership lease; a standby takes over within it" },
  agent_ttl: { kind: "seconds", default: "30s", help: "the agents' agent_ttl: machines get this long to heart-beat again after any gap in the engine's view" },
  engine_unhealthy_threshold: {
    kind: "share",
    default: "0.55",
    help: "share of machines lost within one agent_ttl above which the engine moves nothing (a partition or outage, not dead machines)",
  },
  engine_id: { kind: "string", default: "", help: "this engine's id in the leader election (default: hostname-pid)" },
  disable_engine: { kind: "bool", default: "false", help: "do not run the engine (exit at once)" },
  verbosity: { kind: "string", default: "info", help: "log level: error, warn, info, debug" },
} as const satisfies ConfigSchema;

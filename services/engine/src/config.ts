import type { ConfigSchema } from "@fleet/domain";
import { tlsConfigSchema } from "@fleet/wire";

export const engineConfigSchema = {
  ...tlsConfigSchema,
  gateway_endpoint: { kind: "address", default: "127.0.0.1:49400", help: "registry-gateway gRPC address" },
  nats_servers: { kind: "list", default: "nats://127.0.0.1:4222", help: "NATS URLs for reconcile hints" },
  engine_reconcile_interval: { kind: "seconds", default: "2", help: "seconds between reconcile rounds without hints" },
  engine_lease_ttl: { kind: "seconds", default: "5", help: "TTL of the engine leadership lease; a standby takes over within it" },
  engine_id: { kind: "string", default: "", help: "this engine's id in the leader election (default: hostname-pid)" },
  disable_engine: { kind: "bool", default: "false", help: "do not run the engine (exit at once)" },
  verbosity: { kind: "string", default: "info", help: "log level: error, warn, info, debug" },
} as const satisfies ConfigSchema;

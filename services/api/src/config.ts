import type { ConfigSchema } from "@fleet/domain";

export const apiConfigSchema = {
  gateway_endpoint: { kind: "address", default: "127.0.0.1:49400", help: "registry-gateway gRPC address" },
  api_listen: { kind: "address", default: "127.0.0.1:49500", help: "gRPC listen address of the public API (fleetctl)" },
  verbosity: { kind: "string", default: "info", help: "log level: error, warn, info, debug" },
} as const satisfies ConfigSchema;

import type { ConfigSchema } from "@fleet/domain";

export const gatewayConfigSchema = {
  etcd_servers: { kind: "list", default: "http://127.0.0.1:2379", help: "etcd client URLs, comma separated" },
  etcd_key_prefix: { kind: "string", default: "/fleet/", help: "prefix of every key fleet writes in etcd" },
  etcd_request_timeout: { kind: "seconds", default: "1s", help: "deadline of each etcd request" },
  etcd_username: { kind: "string", default: "", help: "etcd user (auth)" },
  etcd_password: { kind: "string", default: "", help: "etcd password (auth)" },
  nats_servers: { kind: "list", default: "nats://127.0.0.1:4222", help: "NATS URLs for reconcile hints" },
  gateway_listen: { kind: "address", default: "127.0.0.1:49400", help: "gRPC listen address of the registry-gateway" },
  verbosity: { kind: "string", default: "info", help: "log level: error, warn, info, debug" },
} as const satisfies ConfigSchema;

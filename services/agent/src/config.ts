import type { ConfigSchema } from "@fleet/domain";
import { gatewayEndpointOption, tlsConfigSchema } from "@fleet/wire";

export const agentConfigSchema = {
  ...tlsConfigSchema,
  gateway_endpoint: gatewayEndpointOption,
  nats_servers: { kind: "list", default: "nats://127.0.0.1:4222", help: "NATS URLs for reconcile hints" },
  public_ip: { kind: "string", default: "", help: "IP shown for this machine (default: first non-loopback IPv4)" },
  metadata: { kind: "metadata", default: "", help: "this machine's metadata, k=v,k=v" },
  agent_ttl: { kind: "seconds", default: "30s", help: "TTL of the machine's registration; it is gone this long after the agent dies" },
  agent_reconcile_interval: { kind: "seconds", default: "5", help: "seconds between agent reconcile passes without hints" },
  agent_listen: { kind: "string", default: "", help: "where the agent serves status and journals to the api (default <public_ip>:<any free port>)" },
  units_dir: { kind: "string", default: "/run/fleet/units", help: "where the agent writes unit files" },
  machine_id_file: { kind: "string", default: "/etc/machine-id", help: "file holding this machine's 32-hex id" },
  verbosity: { kind: "string", default: "info", help: "log level: error, warn, info, debug" },
} as const satisfies ConfigSchema;

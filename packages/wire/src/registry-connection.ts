// A connection to the registry-gateways (gateway_endpoint: one host:port or a comma-separated
// list) that remembers the newest revision its owner has seen (from its own writes and from
// hints), so that every read is at least that fresh whichever gateway answers it.
//
// Failover: the channel keeps to one gateway of the list and, when that connection is lost or
// cannot be made, goes to the next. The order is random per process, or, for a client given a
// spread key (an agent: its machine id), the list rotated by the key's hash, so that the
// machines share the gateways evenly and each knows where it starts (endpoint-list.ts); calls wait for a ready
// connection within their deadline instead of failing while it reconnects; reads (idempotent)
// that lose their connection mid-call are retried, on the next gateway. Leases live in etcd,
// so any gateway serves an agent's heartbeat or an engine's leadership.
import { connectEndpoints } from "./client.js";
import { parseEndpointList, spreadEndpoints } from "./endpoint-list.js";
import { RegistryServiceClient } from "./gen/fleet/internal/v1/registry.pb.js";

/** The option that lists the gateways, named in configuration errors. */
export const GATEWAY_ENDPOINT_OPTION = "gateway_endpoint";

const SERVICE = "/fleet.internal.v1.RegistryService/";

/** Methods that read, or refresh what exists, and so may be sent again: grpc-js retries them. */
export const REGISTRY_RETRIED_METHODS = [
  "GetUnit",
  "ListUnits",
  "ListMachines",
  "ListUnitStates",
  "GetMachineSchedule",
  "GetMachineLeases",
  "GetClusterSnapshot",
  "WatchCluster",
  "WatchUnits",
  "MachineHeartbeat",
  "RenewLeadership",
].map((m) => SERVICE + m);

/** The gateways of a gateway_endpoint value (or a list of them); errors name the option. */
export function gatewayEndpoints(endpoints: string | readonly string[]): readonly string[] {
  return parseEndpointList(GATEWAY_ENDPOINT_OPTION, typeof endpoints === "string" ? endpoints : endpoints.join(","));
}

/** A RegistryService client over the gateways, with the failover described above. */
export function connectGateways(endpoints: string | readonly string[], spreadKey?: string): RegistryServiceClient {
  const list = gatewayEndpoints(endpoints);
  const ordered = spreadKey !== undefined;
  return connectEndpoints(RegistryServiceClient, ordered ? spreadEndpoints(list, spreadKey) : list, { waitForReady: true, retriedMethods: REGISTRY_RETRIED_METHODS, ordered });
}

export class RegistryConnection {
  readonly client: RegistryServiceClient;
  private seen = 0;

  /** `endpoints`: gateway_endpoint's value ("host:port,host:port") or the list; `spreadKey`: see above. */
  constructor(endpoints: string | readonly string[], spreadKey?: string) {
    this.client = connectGateways(endpoints, spreadKey);
  }

  /** Reads must reflect at least this revision from now on. */
  observe(revision: number): void {
    this.seen = Math.max(this.seen, revision);
  }

  get minRevision(): number {
    return this.seen;
  }

  close(): void {
    this.client.close();
  }
}

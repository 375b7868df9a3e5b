// The HTTP API v1's reads answered from the api's read replica in process, as FleetService
// answers them (fleet-service.ts): no gRPC round trip to the api itself for a page. Writes, and
// reads while the replica cannot reflect the api's writes, go to `over` (FleetService).
import type { ReadReplica } from "../read-replica.js";
import type { FleetBackend } from "./fleet-backend.js";

export function replicaFleetBackend(reads: ReadReplica, over: FleetBackend): FleetBackend {
  return {
    ...over,
    async getUnit(name, requestId) {
      const replica = await reads.current();
      return replica ? replica.view(name) : over.getUnit(name, requestId);
    },
    async listUnits(requestId, page) {
      const replica = await reads.current();
      if (!replica) return over.listUnits(requestId, page);
      const { views, total } = replica.page(page?.offset ?? 0, page?.limit ?? 0);
      return { units: views, total };
    },
    async listUnitStates(filter, requestId) {
      const replica = await reads.current();
      return replica ? replica.listStates(filter.machineId, filter.unitName ? [filter.unitName] : []) : over.listUnitStates(filter, requestId);
    },
  };
}

// The HTTP API v1's reads answered from the api's read replica in process, as FleetService
// answers them (fleet-service.ts), with the same checks of the caller's role and units: no
// gRPC round trip to the api itself for a page. Writes, and reads while the replica cannot
// reflect the api's writes, go to `over` (FleetService, which checks them itself).
import { assertAllowed, inScope } from "@fleet/domain";
import type { ReadReplica } from "../read-replica.js";
import type { FleetBackend } from "./fleet-backend.js";

export function replicaFleetBackend(reads: ReadReplica, over: FleetBackend): FleetBackend {
  return {
    ...over,
    async getUnit(name, call) {
      const replica = await reads.current();
      if (!replica) return over.getUnit(name, call);
      assertAllowed(call.principal, "read", "read", [name]);
      return replica.view(name);
    },
    async listUnits(call, page) {
      const replica = await reads.current();
      if (!replica) return over.listUnits(call, page);
      const p = call.principal;
      assertAllowed(p, "read", "list units");
      const { views, total } = replica.page(page?.offset ?? 0, page?.limit ?? 0, p.units.length > 0 ? (name) => inScope(p, name) : undefined);
      return { units: views, total };
    },
    async listUnitStates(filter, call) {
      const replica = await reads.current();
      if (!replica) return over.listUnitStates(filter, call);
      const p = call.principal;
      assertAllowed(p, "read", "read", filter.unitName ? [filter.unitName] : []);
      return replica.listStates(filter.machineId, filter.unitName ? [filter.unitName] : []).filter((s) => inScope(p, s.name));
    },
  };
}

// FleetBackend over FleetService: the HTTP handlers call the api's own gRPC service (on its
// listen address), so HTTP API v1 and fleetctl's gRPC see one implementation.
import {
  isFleetError,
  FleetServiceClient,
  machineFromWire,
  targetStateToWire,
  unary,
  unitStateFromWire,
  unitToWire,
  unitViewFromWire,
} from "@fleet/wire";
import type { FleetBackend, UnitView } from "./fleet-backend.js";

/** A backend calling FleetService through `client`; every call bounded by `deadlineMs`. */
export function grpcFleetBackend(client: FleetServiceClient, deadlineMs = 10_000): FleetBackend {
  const opts = (requestId: string) => ({ requestId, deadlineMs });
  return {
    async getUnit(name, requestId) {
      try {
        const res = await unary(client.getUnit.bind(client), { name }, opts(requestId));
        return res.unit ? unitViewFromWire(res.unit) : undefined;
      } catch (err) {
        if (isFleetError(err, "not-found")) return undefined;
        throw err;
      }
    },
    async listUnits(requestId, page) {
      const res = await unary(client.listUnits.bind(client), { offset: page?.offset ?? 0, limit: page?.limit ?? 0 }, opts(requestId));
      return { units: res.units.map(unitViewFromWire).filter((v): v is UnitView => v !== undefined), total: res.total };
    },
    async replaceUnit(unit, requestId) {
      const res = await unary(client.replaceUnit.bind(client), { unit: unitToWire(unit) }, opts(requestId));
      return { created: res.created, replaced: res.replaced };
    },
    async setUnitTargetState(name, state, requestId) {
      await unary(client.setUnitTargetState.bind(client), { name, desiredState: targetStateToWire(state) }, opts(requestId));
    },
    async destroyUnit(name, requestId) {
      await unary(client.destroyUnit.bind(client), { name }, opts(requestId));
    },
    async listUnitStates(filter, requestId) {
      const unitNames = filter.unitName ? [filter.unitName] : [];
      const res = await unary(client.listUnitStates.bind(client), { unitNames, machineId: filter.machineId }, opts(requestId));
      return res.states.map(unitStateFromWire);
    },
    async listMachines(requestId) {
      const res = await unary(client.listMachines.bind(client), {}, opts(requestId));
      return res.machines.map(machineFromWire);
    },
    async setMachineMetadata(change, requestId) {
      await unary(
        client.setMachineMetadata.bind(client),
        { machineId: change.machineId, set: { ...change.set }, remove: [...change.remove] },
        opts(requestId),
      );
    },
  };
}

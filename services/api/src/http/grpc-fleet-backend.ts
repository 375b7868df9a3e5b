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
import type { Authenticator } from "../auth/authenticator.js";
import type { BackendCall, FleetBackend, UnitView } from "./fleet-backend.js";

/** A backend calling FleetService through `client`; every call bounded by `deadlineMs`. */
export function grpcFleetBackend(client: FleetServiceClient, auth: Pick<Authenticator, "internalHeaders">, deadlineMs = 10_000): FleetBackend {
  // The call is made for the principal the HTTP layer authenticated, vouched for by the api.
  const opts = (call: BackendCall) => ({ requestId: call.requestId, deadlineMs, headers: auth.internalHeaders(call.principal) });
  return {
    async getUnit(name, call) {
      try {
        const res = await unary(client.getUnit.bind(client), { name }, opts(call));
        return res.unit ? unitViewFromWire(res.unit) : undefined;
      } catch (err) {
        if (isFleetError(err, "not-found")) return undefined;
        throw err;
      }
    },
    async listUnits(call, page) {
      const res = await unary(client.listUnits.bind(client), { offset: page?.offset ?? 0, limit: page?.limit ?? 0 }, opts(call));
      return { units: res.units.map(unitViewFromWire).filter((v): v is UnitView => v !== undefined), total: res.total };
    },
    async replaceUnit(unit, call) {
      const res = await unary(client.replaceUnit.bind(client), { unit: unitToWire(unit) }, opts(call));
      return { created: res.created, replaced: res.replaced };
    },
    async setUnitTargetState(name, state, call) {
      await unary(client.setUnitTargetState.bind(client), { name, desiredState: targetStateToWire(state) }, opts(call));
    },
    async destroyUnit(name, call) {
      await unary(client.destroyUnit.bind(client), { name }, opts(call));
    },
    async listUnitStates(filter, call) {
      const unitNames = filter.unitName ? [filter.unitName] : [];
      const res = await unary(client.listUnitStates.bind(client), { unitNames, machineId: filter.machineId }, opts(call));
      return res.states.map(unitStateFromWire);
    },
    async listMachines(call) {
      const res = await unary(client.listMachines.bind(client), {}, opts(call));
      return res.machines.map(machineFromWire);
    },
    async setMachineMetadata(change, call) {
      await unary(
        client.setMachineMetadata.bind(client),
        { machineId: change.machineId, set: { ...change.set }, remove: [...change.remove] },
        opts(call),
      );
    },
  };
}

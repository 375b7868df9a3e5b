// FleetService (what fleetctl speaks), implemented over the registry-gateway.
import {
  FleetError,
  placementFromWire,
  RegistryServiceClient,
  targetStateToWire,
  unary,
  unaryHandler,
  unitFromWire,
  unitStateFromWire,
  type FleetServiceServer,
  type Logger,
  type UnitView as WireUnitView,
} from "@fleet/wire";
import { unitNameError } from "@fleet/domain";
import { unitView, type UnitView } from "./unit-view.js";

function toWire(v: UnitView): WireUnitView {
  return {
    unit: { ...v.unit, options: [...v.unit.options], desiredState: targetStateToWire(v.unit.desiredState) },
    machineId: v.machineId,
    currentState: targetStateToWire(v.currentState),
    reason: v.reason,
  };
}

function assertName(name: string): void {
  const error = unitNameError(name);
  if (error) throw new FleetError("invalid-argument", error);
}

export function fleetService(gateway: RegistryServiceClient, log: Logger): FleetServiceServer {
  const g = gateway;
  // The api's own writes: reads after them must see them, whichever gateway answers.
  let written = 0;
  const wrote = (revision: number) => {
    written = Math.max(written, revision);
    return { revision };
  };
  return {
    createUnit: unaryHandler(log, "CreateUnit", async (req, ctx) => {
      if (!req.unit) throw new FleetError("invalid-argument", "unit is required");
      assertName(req.unit.name);
      const res = await unary(g.createUnit.bind(g), { unit: req.unit }, { requestId: ctx.requestId });
      ctx.log.info({ unit: req.unit.name }, "unit created");
      return wrote(res.revision);
    }),
    getUnit: unaryHandler(log, "GetUnit", async (req, ctx) => {
      assertName(req.name);
      const res = await unary(g.getUnit.bind(g), { name: req.name, minRevision: written }, { requestId: ctx.requestId });
      if (!res.unit) throw new FleetError("not-found", `Unit ${req.name} not found`);
      const placement = res.placement ? placementFromWire(res.placement) : undefined;
      const states = placement?.machineId
        ? (await unary(g.listUnitStates.bind(g), { machineId: placement.machineId, unitNames: [req.name], minRevision: written })).states.map(unitStateFromWire)
        : [];
      return { unit: toWire(unitView(unitFromWire(res.unit), placement, states)) };
    }),
    listUnits: unaryHandler(log, "ListUnits", async (_req, ctx) => {
      const [units, states] = await Promise.all([
        unary(g.listUnits.bind(g), { minRevision: written }, { requestId: ctx.requestId }),
        unary(g.listUnitStates.bind(g), { machineId: "", unitNames: [], minRevision: written }, { requestId: ctx.requestId }),
      ]);
      const placements = new Map(units.placements.map((p) => [p.unitName, placementFromWire(p)]));
      const byUnit = new Map<string, ReturnType<typeof unitStateFromWire>[]>();
      for (const s of states.states.map(unitStateFromWire)) byUnit.set(s.name, [...(byUnit.get(s.name) ?? []), s]);
      return { units: units.units.map((u) => toWire(unitView(unitFromWire(u), placements.get(u.name), byUnit.get(u.name) ?? []))) };
    }),
    setUnitTargetState: unaryHandler(log, "SetUnitTargetState", async (req, ctx) => {
      assertName(req.name);
      const res = await unary(g.setUnitDesiredState.bind(g), { name: req.name, desiredState: req.desiredState }, { requestId: ctx.requestId });
      ctx.log.info({ unit: req.name, desiredState: req.desiredState }, "desired state set");
      return wrote(res.revision);
    }),
    destroyUnit: unaryHandler(log, "DestroyUnit", async (req, ctx) => {
      assertName(req.name);
      const res = await unary(g.destroyUnit.bind(g), { name: req.name }, { requestId: ctx.requestId });
      ctx.log.info({ unit: req.name }, "unit destroyed");
      return wrote(res.revision);
    }),
    listUnitStates: unaryHandler(log, "ListUnitStates", async (req, ctx) => {
      for (const n of req.unitNames) assertName(n);
      const res = await unary(g.listUnitStates.bind(g), { machineId: req.machineId, unitNames: req.unitNames, minRevision: written }, { requestId: ctx.requestId });
      return { states: res.states };
    }),
    listMachines: unaryHandler(log, "ListMachines", async (_req, ctx) => {
      const res = await unary(g.listMachines.bind(g), { minRevision: written }, { requestId: ctx.requestId });
      return { machines: res.machines };
    }),
  };
}

// FleetService (what fleetctl speaks), implemented over the registry-gateway.
import {
  AgentServiceClient,
  connect,
  FleetError,
  placementFromWire,
  RegistryServiceClient,
  unary,
  unaryHandler,
  unitFromWire,
  unitStateFromWire,
  unitViewToWire,
  failStream,
  type ClientReadableStream,
  type ServerWritableStream,
  type WatchUnitsResponse,
  type FleetServiceServer,
  type Logger,
} from "@fleet/wire";
import { randomUUID } from "node:crypto";
import { unitNameError } from "@fleet/domain";
import { unitView } from "./unit-view.js";

function assertName(name: string): void {
  const error = unitNameError(name);
  if (error) throw new FleetError("invalid-argument", error);
}

/**
 * Passes an upstream stream on to a client: each message mapped, paused while the client's
 * buffer is full, ended with the upstream's end or error, cancelled with the client.
 */
function relay<Up, Req, Res>(upstream: ClientReadableStream<Up>, call: ServerWritableStream<Req, Res>, map: (message: Up) => Res): void {
  upstream.on("data", (message: Up) => {
    if (!call.write(map(message))) {
      upstream.pause();
      call.once("drain", () => upstream.resume());
    }
  });
  upstream.on("end", () => call.end());
  upstream.on("error", (err: unknown) => {
    if (!call.cancelled) failStream(call, err);
  });
  call.on("cancelled", () => upstream.cancel());
}

export function fleetService(gateway: RegistryServiceClient, log: Logger): FleetServiceServer {
  const g = gateway;
  const agents = new Map<string, AgentServiceClient>();
  const agentOf = (endpoint: string): AgentServiceClient => {
    let client = agents.get(endpoint);
    if (!client) agents.set(endpoint, (client = connect(AgentServiceClient, endpoint)));
    return client;
  };
  /** The unit's machine and the agent there that serves its status and journal. */
  const unitAgent = async (name: string, requestId: string): Promise<{ machineId: string; agent: AgentServiceClient }> => {
    assertName(name);
    const res = await unary(g.getUnit.bind(g), { name, minRevision: written }, { requestId });
    const machineId = res.placement?.machineId ?? "";
    if (!machineId) throw new FleetError("failed-precondition", `Unit ${name} does not appear to be running.`);
    const machines = await unary(g.listMachines.bind(g), { minRevision: written }, { requestId });
    const machine = machines.machines.find((m) => m.id === machineId);
    if (!machine?.agentEndpoint) throw new FleetError("unavailable", `the agent of machine ${machineId} serves no status or journal`);
    return { machineId, agent: agentOf(machine.agentEndpoint) };
  };
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
    createUnits: unaryHandler(log, "CreateUnits", async (req, ctx) => {
      for (const u of req.units) assertName(u.name);
      const res = await unary(g.createUnits.bind(g), { units: req.units }, { requestId: ctx.requestId });
      req.units.forEach((u, i) => {
        if (res.created[i]) ctx.log.info({ unit: u.name }, "unit created");
      });
      wrote(res.revision);
      return { revision: res.revision, created: res.created };
    }),
    getUnit: unaryHandler(log, "GetUnit", async (req, ctx) => {
      assertName(req.name);
      const res = await unary(g.getUnit.bind(g), { name: req.name, minRevision: written }, { requestId: ctx.requestId });
      if (!res.unit) throw new FleetError("not-found", `Unit ${req.name} not found`);
      const placement = res.placement ? placementFromWire(res.placement) : undefined;
      return { unit: unitViewToWire(unitView(unitFromWire(res.unit), placement, res.states.map(unitStateFromWire))) };
    }),
    listUnits: unaryHandler(log, "ListUnits", async (_req, ctx) => {
      const [units, states] = await Promise.all([
        unary(g.listUnits.bind(g), { minRevision: written }, { requestId: ctx.requestId }),
        unary(g.listUnitStates.bind(g), { machineId: "", unitNames: [], minRevision: written }, { requestId: ctx.requestId }),
      ]);
      const placements = new Map(units.placements.map((p) => [p.unitName, placementFromWire(p)]));
      const byUnit = new Map<string, ReturnType<typeof unitStateFromWire>[]>();
      for (const s of states.states.map(unitStateFromWire)) byUnit.set(s.name, [...(byUnit.get(s.name) ?? []), s]);
      return { units: units.units.map((u) => unitViewToWire(unitView(unitFromWire(u), placements.get(u.name), byUnit.get(u.name) ?? []))) };
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
    setMachineMetadata: unaryHandler(log, "SetMachineMetadata", async (req, ctx) => {
      const res = await unary(g.setMachineMetadata.bind(g), { machineId: req.machineId, set: req.set, remove: req.remove }, { requestId: ctx.requestId });
      ctx.log.info({ machineId: req.machineId, set: req.set, remove: req.remove }, "machine metadata changed");
      return wrote(res.revision);
    }),
    unitStatus: unaryHandler(log, "UnitStatus", async (req, ctx) => {
      const { machineId, agent } = await unitAgent(req.unitName, ctx.requestId);
      const res = await unary(agent.unitStatus.bind(agent), { unitName: req.unitName }, { requestId: ctx.requestId });
      return { machineId, text: res.text, exitCode: res.exitCode };
    }),
    journal: (call) => {
      const requestId = randomUUID();
      unitAgent(call.request.unitName, requestId).then(
        ({ agent }) => {
          const upstream = agent.journal({ unitName: call.request.unitName, lines: call.request.lines, follow: call.request.follow, output: call.request.output });
          relay(upstream, call, (chunk: { data: string }) => ({ data: chunk.data }));
        },
        (err: unknown) => failStream(call, err),
      );
    },
    watchUnits: (call) => {
      try {
        for (const name of call.request.names) assertName(name);
      } catch (err) {
        return failStream(call, err);
      }
      const upstream = g.watchUnits({ names: call.request.names, minRevision: written });
      relay(upstream, call, (msg: WatchUnitsResponse) => ({
        units: msg.units.flatMap((r) =>
          r.unit ? [unitViewToWire(unitView(unitFromWire(r.unit), r.placement ? placementFromWire(r.placement) : undefined, r.states.map(unitStateFromWire)))] : [],
        ),
        missing: msg.missing,
      }));
    },
    listMachines: unaryHandler(log, "ListMachines", async (_req, ctx) => {
      const res = await unary(g.listMachines.bind(g), { minRevision: written }, { requestId: ctx.requestId });
      return { machines: res.machines };
    }),
  };
}

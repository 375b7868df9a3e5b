// FleetService (what fleetctl speaks), implemented over the registry-gateway.
import {
  AgentServiceClient,
  channelCredentials,
  connect,
  FleetError,
  placementFromWire,
  RegistryServiceClient,
  targetStateFromWire,
  unary,
  unaryHandler,
  unaryWrite,
  unitFromWire,
  unitStateFromWire,
  unitStateToWire,
  unitViewToWire,
  failStream,
  isRequestId,
  someNames,
  type RequestContext,
  type UnaryOptions,
  type WatchUnitsResponse,
  type WriteOptions,
  type FleetServiceServer,
  type Logger,
  type TargetState,
  type Metadata,
  type ChannelCredentials,
} from "@fleet/wire";
import { randomUUID } from "node:crypto";
import { assertMachineId, assertMetadataKey, assertMetadataValue, assertUnitCount, assertUnitInput, assertValidUnitName } from "@fleet/domain";
import { assertAllowed, inScope, type Principal } from "@fleet/domain";
import type { ReadReplica } from "./read-replica.js";
import { accessService } from "./access-service.js";
import type { AuditLog } from "./auth/audit-log.js";
import type { Authenticator } from "./auth/authenticator.js";
import { grpcCredentials } from "./auth/credentials.js";
import { relay } from "./stream-relay.js";
import { unitView } from "./unit-view.js";

const GATEWAY = "the registry-gateway";

/**
 * A unit as a request carries it, checked before anything is sent on: its name, and its options
 * within fleet's limits and free of control characters (@fleet/domain input-limits.ts).
 */
function assertUnitRequest(unit: { name: string; options: Array<{ section: string; name: string; value: string }> } | undefined): asserts unit {
  if (!unit) throw new FleetError("invalid-argument", "unit is required");
  assertValidUnitName(unit.name);
  assertUnitInput(unit.name, unit.options);
}

/** Options of a call made while serving ctx: its request id, ending before the caller's deadline. */
function callOptions(ctx: RequestContext): UnaryOptions {
  return { requestId: ctx.requestId, ...(ctx.deadline ? { deadline: ctx.deadline } : {}) };
}

/** The same, for a write to the gateway described by `what` ("creating unit a.service"). */
function writeOptions(ctx: RequestContext, what: string): WriteOptions {
  return { ...callOptions(ctx), what, service: GATEWAY };
}

function stateWords(state: TargetState): string {
  return targetStateFromWire(state) ?? String(state);
}

export interface Access {
  readonly auth: Authenticator;
  readonly audit: AuditLog;
}

/**
 * FleetService over `gateway`; its unit reads answered by `reads` while it follows the gateway.
 * Every call is authenticated and checked against the caller's role and units (access.auth);
 * every change is recorded (access.audit).
 */
export function fleetService(gateway: RegistryServiceClient, log: Logger, reads: ReadReplica, access: Access, agentCredentials: ChannelCredentials = channelCredentials()): FleetServiceServer {
  const g = gateway;
  const { auth, audit } = access;
  const who = (ctx: RequestContext): Promise<Principal> => auth.principal(grpcCredentials(ctx.metadata, ctx.authContext()));
  const streamWho = (call: { metadata: Metadata; getAuthContext: () => ReturnType<RequestContext["authContext"]> }): Promise<Principal> =>
    auth.principal(grpcCredentials(call.metadata, call.getAuthContext()));
  const agents = new Map<string, AgentServiceClient>();
  const agentOf = (endpoint: string): AgentServiceClient => {
    let client = agents.get(endpoint);
    if (!client) agents.set(endpoint, (client = connect(AgentServiceClient, endpoint, agentCredentials)));
    return client;
  };
  /** The unit's machine and the agent there that serves its status and journal. */
  const unitAgent = async (name: string, options: UnaryOptions): Promise<{ machineId: string; agent: AgentServiceClient }> => {
    assertValidUnitName(name);
    const res = await unary(g.getUnit.bind(g), { name, minRevision: reads.written }, options);
    const machineId = res.placement?.machineId ?? "";
    if (!machineId) throw new FleetError("failed-precondition", `Unit ${name} does not appear to be running.`);
    const machines = await unary(g.listMachines.bind(g), { minRevision: reads.written }, options);
    const machine = machines.machines.find((m) => m.id === machineId);
    if (!machine?.agentEndpoint) throw new FleetError("unavailable", `the agent of machine ${machineId} serves no status or journal`);
    return { machineId, agent: agentOf(machine.agentEndpoint) };
  };
  const wrote = (revision: number) => {
    reads.wrote(revision);
    return { revision };
  };
  return {
    createUnit: unaryHandler(log, "CreateUnit", async (req, ctx) => {
      assertUnitRequest(req.unit);
      const p = await who(ctx);
      assertAllowed(p, "change-units", "create", [req.unit.name]);
      const res = await unaryWrite(g.createUnit.bind(g), { unit: req.unit }, writeOptions(ctx, `creating unit ${req.unit.name}`));
      ctx.log.info({ unit: req.unit.name, who: p.id }, "unit created");
      await audit.record(p, ctx.requestId, "create-unit", { unit: req.unit.name, detail: stateWords(req.unit.desiredState) });
      return wrote(res.revision);
    }),
    replaceUnit: unaryHandler(log, "ReplaceUnit", async (req, ctx) => {
      assertUnitRequest(req.unit);
      const p = await who(ctx);
      assertAllowed(p, "change-units", "replace", [req.unit.name]);
      const res = await unaryWrite(g.replaceUnit.bind(g), { unit: req.unit }, writeOptions(ctx, `replacing unit ${req.unit.name}`));
      const outcome = res.created ? "unit created" : res.replaced ? "unit replaced" : "unit already as asked";
      const desiredState = req.unit.desiredState === 0 ? "inactive" : stateWords(req.unit.desiredState);
      ctx.log.info({ unit: req.unit.name, desiredState, who: p.id }, outcome);
      if (res.created || res.replaced) await audit.record(p, ctx.requestId, res.created ? "create-unit" : "replace-unit", { unit: req.unit.name, detail: desiredState });
      return { ...wrote(res.revision), created: res.created, replaced: res.replaced };
    }),
    createUnits: unaryHandler(log, "CreateUnits", async (req, ctx) => {
      assertUnitCount(req.units.length);
      for (const u of req.units) assertUnitRequest(u);
      const p = await who(ctx);
      assertAllowed(p, "change-units", "create", req.units.map((u) => u.name));
      const what = `creating units ${someNames(req.units.map((u) => u.name))}`;
      const res = await unaryWrite(g.createUnits.bind(g), { units: req.units }, writeOptions(ctx, what));
      const created = req.units.filter((_u, i) => res.created[i]);
      for (const u of created) ctx.log.info({ unit: u.name, who: p.id }, "unit created");
      await audit.recordMany(p, ctx.requestId, "create-unit", created.map((u) => ({ unit: u.name, detail: stateWords(u.desiredState) })));
      reads.wrote(res.revision);
      return { revision: res.revision, created: res.created };
    }),
    getUnit: unaryHandler(log, "GetUnit", async (req, ctx) => {
      assertValidUnitName(req.name);
      assertAllowed(await who(ctx), "read", "read", [req.name]);
      const replica = await reads.current();
      if (replica) {
        const view = replica.view(req.name);
        if (!view) throw new FleetError("not-found", `Unit ${req.name} not found`);
        return { unit: unitViewToWire(view) };
      }
      const res = await unary(g.getUnit.bind(g), { name: req.name, minRevision: reads.written }, callOptions(ctx));
      if (!res.unit) throw new FleetError("not-found", `Unit ${req.name} not found`);
      const placement = res.placement ? placementFromWire(res.placement) : undefined;
      return { unit: unitViewToWire(unitView(unitFromWire(res.unit), placement, res.states.map(unitStateFromWire))) };
    }),
    listUnits: unaryHandler(log, "ListUnits", async (req, ctx) => {
      const p = await who(ctx);
      assertAllowed(p, "read", "list units");
      const replica = await reads.current();
      if (replica) {
        const { views, total } = replica.page(req.offset, req.limit, p.units.length > 0 ? (name) => inScope(p, name) : undefined);
        return { units: views.map(unitViewToWire), total };
      }
      if (p.units.length > 0) throw new FleetError("unavailable", "the api's replica of the units is not in sync; try again");
      const listed = unary(g.listUnits.bind(g), { minRevision: reads.written, offset: req.offset, limit: req.limit }, callOptions(ctx));
      const statesOf = (unitNames: string[]) => unary(g.listUnitStates.bind(g), { machineId: "", unitNames, minRevision: reads.written }, callOptions(ctx));
      // A page (limit > 0): its units first, then their states only; all: both at once.
      const [units, states] =
        req.limit > 0
          ? await listed.then(async (u) => [u, u.units.length > 0 ? await statesOf(u.units.map((x) => x.name)) : { states: [] }] as const)
          : await Promise.all([listed, statesOf([])]);
      const placements = new Map(units.placements.map((p) => [p.unitName, placementFromWire(p)]));
      const byUnit = new Map<string, ReturnType<typeof unitStateFromWire>[]>();
      for (const s of states.states.map(unitStateFromWire)) byUnit.set(s.name, [...(byUnit.get(s.name) ?? []), s]);
      return { units: units.units.map((u) => unitViewToWire(unitView(unitFromWire(u), placements.get(u.name), byUnit.get(u.name) ?? []))), total: units.total };
    }),
    setUnitTargetState: unaryHandler(log, "SetUnitTargetState", async (req, ctx) => {
      assertValidUnitName(req.name);
      const p = await who(ctx);
      assertAllowed(p, "change-units", `set the state of`, [req.name]);
      const what = `setting the desired state of unit ${req.name} to ${stateWords(req.desiredState)}`;
      const res = await unaryWrite(g.setUnitDesiredState.bind(g), { name: req.name, desiredState: req.desiredState }, writeOptions(ctx, what));
      ctx.log.info({ unit: req.name, desiredState: stateWords(req.desiredState), who: p.id }, "desired state set");
      await audit.record(p, ctx.requestId, "set-unit-state", { unit: req.name, detail: stateWords(req.desiredState) });
      return wrote(res.revision);
    }),
    destroyUnit: unaryHandler(log, "DestroyUnit", async (req, ctx) => {
      assertValidUnitName(req.name);
      const p = await who(ctx);
      assertAllowed(p, "change-units", "destroy", [req.name]);
      const res = await unaryWrite(g.destroyUnit.bind(g), { name: req.name }, writeOptions(ctx, `destroying unit ${req.name}`));
      ctx.log.info({ unit: req.name, who: p.id }, "unit destroyed");
      await audit.record(p, ctx.requestId, "destroy-unit", { unit: req.name });
      return wrote(res.revision);
    }),
    listUnitStates: unaryHandler(log, "ListUnitStates", async (req, ctx) => {
      for (const n of req.unitNames) assertValidUnitName(n);
      const p = await who(ctx);
      assertAllowed(p, "read", "read", req.unitNames);
      const replica = await reads.current();
      if (replica) return { states: replica.listStates(req.machineId, req.unitNames).filter((s) => inScope(p, s.name)).map(unitStateToWire) };
      const res = await unary(g.listUnitStates.bind(g), { machineId: req.machineId, unitNames: req.unitNames, minRevision: reads.written }, callOptions(ctx));
      return { states: res.states.filter((s) => inScope(p, s.name)) };
    }),
    setMachineMetadata: unaryHandler(log, "SetMachineMetadata", async (req, ctx) => {
      assertMachineId(req.machineId);
      for (const [key, value] of Object.entries(req.set)) {
        assertMetadataKey(key);
        assertMetadataValue(key, value);
      }
      for (const key of req.remove) assertMetadataKey(key);
      const p = await who(ctx);
      assertAllowed(p, "admin", "change machine metadata");
      const what = `changing the metadata of machine ${req.machineId}`;
      const res = await unaryWrite(g.setMachineMetadata.bind(g), { machineId: req.machineId, set: req.set, remove: req.remove }, writeOptions(ctx, what));
      ctx.log.info({ machineId: req.machineId, set: req.set, remove: req.remove, who: p.id }, "machine metadata changed");
      const detail = [...Object.entries(req.set).map(([k, v]) => `${k}=${v}`), ...req.remove.map((k) => `-${k}`)].join(",");
      await audit.record(p, ctx.requestId, "set-metadata", { machineId: req.machineId, detail });
      return wrote(res.revision);
    }),
    unitStatus: unaryHandler(log, "UnitStatus", async (req, ctx) => {
      assertValidUnitName(req.unitName);
      assertAllowed(await who(ctx), "read", "read the status of", [req.unitName]);
      const { machineId, agent } = await unitAgent(req.unitName, callOptions(ctx));
      const res = await unary(agent.unitStatus.bind(agent), { unitName: req.unitName }, callOptions(ctx));
      return { machineId, text: res.text, exitCode: res.exitCode };
    }),
    journal: (call) => {
      // The caller's request id (x-request-id), as for every other call; a fresh one without.
      const given = call.metadata.get("x-request-id")[0];
      const requestId = isRequestId(given) ? given : randomUUID();
      const allowed = streamWho(call).then((p) => assertAllowed(p, "read", "read the journal of", [call.request.unitName]));
      allowed.then(() => unitAgent(call.request.unitName, { requestId })).then(
        ({ agent }) => {
          const open = () => agent.journal({ unitName: call.request.unitName, lines: call.request.lines, follow: call.request.follow, output: call.request.output });
          relay(open, call, (chunk: { data: string }) => ({ data: chunk.data }));
        },
        (err: unknown) => failStream(call, err),
      );
    },
    watchUnits: (call) => {
      try {
        for (const name of call.request.names) assertValidUnitName(name);
      } catch (err) {
        return failStream(call, err);
      }
      streamWho(call).then(
        (p) => {
          assertAllowed(p, "read", "watch", call.request.names);
          watch(call, p);
        },
        (err: unknown) => failStream(call, err),
      );
    },
    listMachines: unaryHandler(log, "ListMachines", async (_req, ctx) => {
      assertAllowed(await who(ctx), "read", "list machines");
      const res = await unary(g.listMachines.bind(g), { minRevision: reads.written }, callOptions(ctx));
      return { machines: res.machines, engineStatus: res.engineStatus };
    }),
    ...accessService(gateway, log, who, audit),
  };

  function watch(call: Parameters<FleetServiceServer["watchUnits"]>[0], p: Principal): void {
    // Each (re)opened stream starts with the units as they are: a client following it sees
    // nothing of a gateway going away but, at most, the same state once more.
    const open = () => g.watchUnits({ names: call.request.names, minRevision: reads.written });
    const resume = { log: log.child({ method: "WatchUnits" }), what: "WatchUnits" };
    relay(
      open,
      call,
      (msg: WatchUnitsResponse) => ({
        units: msg.units.flatMap((r) =>
          r.unit && inScope(p, r.unit.name)
            ? [unitViewToWire(unitView(unitFromWire(r.unit), r.placement ? placementFromWire(r.placement) : undefined, r.states.map(unitStateFromWire)))]
            : [],
        ),
        missing: msg.missing,
      }),
      resume,
    );
  }
}

// RegistryService over gRPC: wire messages in, Registry calls, wire messages out.
import {
  machineFromWire,
  machineToWire,
  placementFromWire,
  placementToWire,
  targetStateFromWire,
  unaryHandler,
  unitStateFromWire,
  unitStateToWire,
  unitToWire,
  FleetError,
  type Logger,
  type RegistryServiceServer,
} from "@fleet/wire";
import { bulkhead } from "cockatiel";
import { assertValidUnitName, unresponsiveMachineReason, type Placement, type TargetState } from "@fleet/domain";
import { accessHandlers } from "./access-handlers.js";
import type { ClusterFeed } from "./cluster-feed.js";
import { deltaToWire, MAX_WATCHED_UNITS, serveFeed, updateToWire } from "./feed-streams.js";
import { heartbeatStreamHandler, type StreamServices } from "./heartbeat-stream-handler.js";
import type { ScheduleRevisions } from "./schedule-revisions.js";
import type { Registry } from "./registry.js";
import type { RegistryCache } from "./registry-cache.js";
import type { UnitsFeed } from "./units-feed.js";

/**
 * A placement as users read it: on a machine that is not registered, the reason says the unit
 * stays there and why (the engine's word on that machine, when its status has one). The stored
 * placement, which the engine reads, is left as it is.
 */
function asUsersSeeIt(cache: RegistryCache, p: Placement): Placement {
  if (p.machineId === "" || cache.machines.has(p.machineId)) return p;
  const held = cache.engineStatus?.heldMachines.find((h) => h.machineId === p.machineId);
  return { ...p, reason: unresponsiveMachineReason(p.machineId, held?.reason ?? "") };
}

/** A new unit's desired state: unspecified means inactive. */
function initial(state: number, what: string): TargetState {
  return state === 0 ? "inactive" : desired(state, what);
}

function desired(state: number, what: string): TargetState {
  const s = targetStateFromWire(state);
  if (!s) throw new FleetError("invalid-argument", `${what}: desired state must be inactive, loaded or launched`);
  return s;
}

/** Whether the gateway's cache follows etcd (EtcdStore.healthy). */
export interface CacheHealth {
  readonly healthy: boolean;
}

/** Refuses the engine's views while the cache does not follow etcd: they would be stale and silently paused. */
function assertFollowing(health: CacheHealth): void {
  if (!health.healthy) throw new FleetError("unavailable", LOST_ETCD);
}

export const LOST_ETCD = "the registry-gateway lost its etcd watch; try again once it has re-read etcd (or through another gateway)";

/** Registrations served at once; the rest wait in line (each with its caller's deadline). */
export const REGISTRATIONS_AT_ONCE = 32;

export function registryService(
  registry: Registry,
  cache: RegistryCache,
  log: Logger,
  feed: ClusterFeed,
  unitsFeed: UnitsFeed,
  health: CacheHealth,
  scheduleRevisions: Pick<ScheduleRevisions, "of">,
): RegistryServiceServer {
  const registrations = bulkhead(REGISTRATIONS_AT_ONCE, Number.MAX_SAFE_INTEGER);
  // A machine's state reports and schedule reads, by call or on its heartbeat stream.
  const agents: StreamServices = {
    scheduleRevision: (id) => scheduleRevisions.of(id),
    report: (req) =>
      registry.states.report(
        req.machineId,
        req.leaseId,
        req.states.map((s) => unitStateFromWire({ ...s, machineId: req.machineId })),
        req.removed,
      ),
    schedule: async (req) => {
      await registry.fresh(req.minRevision);
      return {
        units: registry.schedule.machineSchedule(req.machineId).map(unitToWire),
        // Only the asking machine (as everyone sees it, API metadata included): never the cluster.
        machines: [cache.machine(req.machineId)].filter((m) => m !== undefined).map(machineToWire),
        revision: cache.revision,
      };
    },
  };
  return {
    ...accessHandlers(registry, log),
    createUnit: unaryHandler(log, "CreateUnit", async (req, ctx) => {
      if (!req.unit) throw new FleetError("invalid-argument", "unit is required");
      const state = initial(req.unit.desiredState, req.unit.name);
      const res = await registry.units.create(req.unit.name, req.unit.options, state);
      if (!res.existed) ctx.log.info({ unit: req.unit.name, desiredState: state, revision: res.revision }, "unit created");
      return res;
    }),
    createUnits: unaryHandler(log, "CreateUnits", async (req, ctx) => {
      const res = await registry.units.createMany(req.units.map((u) => ({ name: u.name, options: u.options, desiredState: initial(u.desiredState, u.name) })));
      ctx.log.info({ units: res.created.filter(Boolean).length, asked: req.units.length, revision: res.revision }, "units created");
      return res;
    }),
    replaceUnit: unaryHandler(log, "ReplaceUnit", async (req, ctx) => {
      if (!req.unit) throw new FleetError("invalid-argument", "unit is required");
      const state = initial(req.unit.desiredState, req.unit.name);
      const res = await registry.units.replace(req.unit.name, req.unit.options, state);
      if (res.created) ctx.log.info({ unit: req.unit.name, desiredState: state, revision: res.revision }, "unit created");
      return res;
    }),
    getUnit: unaryHandler(log, "GetUnit", async (req) => {
      await registry.fresh(req.minRevision);
      const { unit, placement } = registry.units.get(req.name);
      const states = registry.states.list("", [req.name]).map(unitStateToWire);
      return { unit: unitToWire(unit), placement: placementToWire(asUsersSeeIt(cache, placement)), states };
    }),
    listUnits: unaryHandler(log, "ListUnits", async (req) => {
      await registry.fresh(req.minRevision);
      const all = cache.sortedUnits();
      const units = req.limit > 0 ? all.slice(req.offset, req.offset + req.limit) : all;
      const placements = req.limit > 0 ? units.flatMap((u) => cache.placement(u.name) ?? []) : cache.placements();
      return {
        units: units.map(unitToWire),
        placements: placements.map((p) => placementToWire(asUsersSeeIt(cache, p))),
        revision: cache.revision,
        total: all.length,
      };
    }),
    setUnitDesiredState: unaryHandler(log, "SetUnitDesiredState", async (req, ctx) => {
      const state = desired(req.desiredState, req.name);
      const revision = await registry.units.setDesiredState(req.name, state);
      ctx.log.info({ unit: req.name, desiredState: state, revision }, "desired state set");
      return { revision };
    }),
    destroyUnit: unaryHandler(log, "DestroyUnit", async (req, ctx) => {
      const revision = await registry.units.destroy(req.name);
      ctx.log.info({ unit: req.name, revision }, "unit destroyed");
      return { revision };
    }),
    listMachines: unaryHandler(log, "ListMachines", async (req) => {
      await registry.fresh(req.minRevision);
      const status = cache.engineStatus;
      return {
        machines: cache.sortedMachines().map(machineToWire),
        revision: cache.revision,
        engineStatus: status ? { massLoss: status.massLoss, heldMachines: status.heldMachines.map((h) => ({ ...h })) } : undefined,
      };
    }),
    registerMachine: unaryHandler(log, "RegisterMachine", async (req, ctx) => {
      const machine = req.machine;
      if (!machine) throw new FleetError("invalid-argument", "machine is required");
      // A few at a time, so that each one's lease grant and its write follow each other closely
      // (a thousand interleaved would each take long enough for their lease to lapse in between).
      const { leaseId, revision } = await registrations.execute(() => {
        if (ctx.deadline && ctx.deadline.getTime() <= Date.now()) {
          throw new FleetError("deadline-exceeded", "registration waited in line past its deadline; nothing was written", "not-applied");
        }
        return registry.machines.register(machineFromWire(machine), req.ttlSeconds, req.instance ?? "");
      });
      return { leaseId, revision };
    }),
    unregisterMachine: unaryHandler(log, "UnregisterMachine", async (req) => registry.machines.unregister(req.machineId, req.leaseId)),
    setMachineMetadata: unaryHandler(log, "SetMachineMetadata", async (req) => ({
      revision: await registry.machines.setMetadata(req.machineId, req.set, req.remove),
    })),
    machineHeartbeat: unaryHandler(
      log,
      "MachineHeartbeat",
      async (req) => ({ alive: await registry.machines.heartbeat(req.machineId, req.leaseId) }),
      // A heartbeat that waited past its deadline in a busy gateway still says the machine lives.
      (req) => registry.machines.heartbeats.heardLate(req.machineId, req.leaseId),
    ),
    machineHeartbeats: heartbeatStreamHandler(registry, log, agents),
    getMachineLeases: unaryHandler(log, "GetMachineLeases", async (req) => ({
      leases: await registry.machines.leases(req.machineIds, { heardOnly: req.heardOnly, except: req.exceptMachineIds }),
    })),
    listUnitStates: unaryHandler(log, "ListUnitStates", async (req) => {
      await registry.fresh(req.minRevision);
      return { states: registry.states.list(req.machineId, req.unitNames).map(unitStateToWire), revision: cache.revision };
    }),
    reportUnitStates: unaryHandler(log, "ReportUnitStates", async (req) => ({ revision: await agents.report(req) })),
    getMachineSchedule: unaryHandler(log, "GetMachineSchedule", (req) => agents.schedule(req)),
    getClusterSnapshot: unaryHandler(log, "GetClusterSnapshot", async (req) => {
      assertFollowing(health);
      await registry.fresh(req.minRevision);
      assertFollowing(health);
      return {
        units: cache.sortedUnits().map(unitToWire),
        placements: cache.placements().map(placementToWire),
        machines: cache.sortedMachines().map(machineToWire),
        revision: cache.revision,
      };
    }),
    watchCluster: (call) => {
      const ready = (async () => {
        assertFollowing(health);
        await registry.fresh(call.request.minRevision);
      })();
      serveFeed(
        call,
        ready,
        (write, end) => {
          // Checked again as it subscribes: the gateway may have lost etcd meanwhile.
          if (!health.healthy) {
            end(new FleetError("unavailable", LOST_ETCD));
            return () => undefined;
          }
          return feed.subscribe({
            withStates: call.request.withStates,
            send: (delta) => write(deltaToWire(delta)),
            end: (reason) => end(new FleetError("unavailable", reason)),
          });
        },
        "WatchCluster",
      );
      log.debug({ revision: cache.revision, watchers: feed.size }, "cluster watch opened");
    },
    watchUnits: (call) => {
      const names = call.request.names;
      const ready = (async () => {
        // No name: every unit.
        if (names.length > MAX_WATCHED_UNITS) throw new FleetError("invalid-argument", `name at most ${MAX_WATCHED_UNITS} units (or none: every unit), not ${names.length}`);
        for (const name of names) assertValidUnitName(name);
        await registry.fresh(call.request.minRevision);
      })();
      serveFeed(call, ready, (write) => unitsFeed.subscribe(names, (update) => write(updateToWire(update))), "WatchUnits");
    },
    acquireLeadership: unaryHandler(log, "AcquireLeadership", async (req) => {
      const r = await registry.leadership.acquire(req.candidateId, req.ttlSeconds);
      return { elected: r.elected, leaderId: r.leaderId, leaseId: r.leaseId, fence: r.fence };
    }),
    renewLeadership: unaryHandler(log, "RenewLeadership", async (req) => ({
      stillLeader: await registry.leadership.renew(req.candidateId, req.leaseId, req.fence),
    })),
    resignLeadership: unaryHandler(log, "ResignLeadership", async (req) => {
      await registry.leadership.resign(req.candidateId, req.leaseId, req.fence);
      return {};
    }),
    applySchedule: unaryHandler(log, "ApplySchedule", async (req, ctx) => {
      const revision = await registry.schedule.apply(req.candidateId, req.fence, req.placements.map(placementFromWire), req.absentMachines);
      ctx.log.info({ engine: req.candidateId, changes: req.placements.length, revision }, "schedule applied");
      return { revision };
    }),
    reportEngineStatus: unaryHandler(log, "ReportEngineStatus", async (req) => ({
      revision: await registry.leadership.reportEngineStatus(req.candidateId, req.fence, {
        massLoss: req.status?.massLoss ?? "",
        heldMachines: (req.status?.heldMachines ?? []).map((h) => ({ machineId: h.machineId, reason: h.reason })),
      }),
    })),
  };
}

import { describe, expect, it } from "vitest";
import type { ClusterSnapshot, Placement, Unit } from "@fleet/domain";
import { createLogger } from "@fleet/wire";
import { ClusterReplica } from "./cluster-replica.js";
import { Engine } from "./engine.js";
import { FakeClusterSource, hexMachine, makeUnit, RecordingPlanner } from "./fake-gateway.js";
import { Leadership, type LeadershipApi } from "./leadership.js";

const log = createLogger("engine-test", "silent");
const TTL = 5000;
const [m1, m2, m3] = [hexMachine(1), hexMachine(2), hexMachine(3)];
const amoUnit = (name: string) => makeUnit(name, [{ section: "X-Fleet", name: "AtMostOnce", value: "true" }]);
const placed = (unitName: string, machineId: string): Placement => ({ unitName, machineId, reason: "least-loaded eligible machine" });

async function leader(api: LeadershipApi): Promise<Leadership> {
  const leadership = new Leadership(api, "e1", 3600, log, () => undefined);
  leadership.start();
  await new Promise((r) => setImmediate(r));
  return leadership;
}

/**
 * A leading engine over a replica fed by a fake stream, on a clock the test moves. The cluster
 * starts with every unit placed where `placements` says, the view started at t=0.
 */
async function harness(cluster: ClusterSnapshot) {
  let now = 0;
  const planner = new RecordingPlanner(cluster);
  const source = new FakeClusterSource();
  const replica = new ClusterReplica(source, log, {
    onChange: () => undefined,
    liveness: { ttlMs: TTL, unhealthyThreshold: 0.55, atMostOnceMarginMs: 1000 },
    now: () => now,
  });
  const leadership = await leader(planner);
  const wakes: number[] = [];
  const engine = new Engine(planner, replica, leadership, log, (ms) => wakes.push(now + ms));
  replica.start();
  let revision = 1;
  source.snapshot(revision, cluster);
  planner.minRevision = revision;
  return {
    planner,
    wakes,
    at: (t: number) => {
      now = t;
    },
    /** A batch of the stream (the planner's view follows, as etcd's would). */
    stream: (delta: { removedMachines?: string[]; machines?: typeof m1[]; units?: Unit[] }) => {
      revision = Math.max(revision, planner.minRevision) + 1;
      planner.minRevision = revision;
      source.last.onEvent({ revision, snapshot: false, delta });
      const gone = new Set(delta.removedMachines ?? []);
      const changed = new Set((delta.units ?? []).map((u) => u.name));
      planner.cluster = {
        ...planner.cluster,
        machines: [...planner.cluster.machines.filter((m) => !gone.has(m.id)), ...(delta.machines ?? [])],
        units: [...planner.cluster.units.filter((u) => !changed.has(u.name)), ...(delta.units ?? [])],
      };
    },
    /** The stream broke and came back with this snapshot. */
    resync: (s: Partial<ClusterSnapshot>) => {
      revision = Math.max(revision, planner.minRevision) + 1;
      planner.minRevision = revision;
      planner.cluster = { ...planner.cluster, ...s };
      replica.resync("test: the gateway went away");
      source.snapshot(revision, planner.cluster);
    },
    /** One round; the stream then echoes what it wrote, as the gateway's would. */
    round: async () => {
      const before = planner.applied.length;
      await engine.reconcile("test");
      const placements = planner.applied.slice(before).flatMap((a) => a.placements);
      if (placements.length > 0) {
        revision = planner.minRevision;
        source.last.onEvent({ revision, snapshot: false, delta: { placements } });
      }
    },
    /** Where each unit is placed now, by what was written. */
    where: () => Object.fromEntries(planner.cluster.placements.map((p) => [p.unitName, p.machineId])),
    stop: async () => {
      await leadership.stop();
      replica.stop();
    },
  };
}

const healthy = (...ms: (typeof m1)[]) => ms.map((m) => ({ machineId: m.id, remainingMs: 4500, grantedMs: TTL }));
const failing = (...ms: (typeof m1)[]) => ms.map((m) => ({ machineId: m.id, remainingMs: 1000, grantedMs: TTL }));

describe("Engine round: liveness", () => {
  const cluster: ClusterSnapshot = {
    units: [makeUnit("a.service"), makeUnit("b.service"), makeUnit("c.service")],
    placements: [placed("a.service", m1.id), placed("b.service", m2.id), placed("c.service", m3.id)],
    machines: [m1, m2, m3],
  };

  it("decides nothing without a view of the cluster (no snapshot fallback)", async () => {
    const planner = new RecordingPlanner({ units: [makeUnit("x.service")], placements: [], machines: [m1] });
    const replica = new ClusterReplica(new FakeClusterSource(), log, { onChange: () => undefined, liveness: { ttlMs: TTL, unhealthyThreshold: 0.55, atMostOnceMarginMs: 1000 } });
    const leadership = await leader(planner);
    await new Engine(planner, replica, leadership, log).reconcile("start");
    expect(planner.applied).toEqual([]);
    await leadership.stop();
  });

  it("one machine of three lapses while the others heart-beat: its units move at once", async () => {
    const h = await harness(cluster);
    h.planner.leases = healthy(m1, m3);
    h.at(20_000);
    h.stream({ removedMachines: [m2.id] });
    await h.round();
    expect(h.planner.leaseReads).toBe(1);
    expect(h.where()["b.service"]).not.toBe(m2.id);
    expect([m1.id, m3.id]).toContain(h.where()["b.service"]);
    await h.stop();
  });

  it("two of three lapse (the second still failing when the first is seen): nothing moves, ever, until they return", async () => {
    const h = await harness(cluster);
    h.planner.leases = failing(m3).concat(healthy(m1));
    h.at(20_000);
    h.stream({ removedMachines: [m2.id] });
    await h.round();
    h.planner.leases = healthy(m1);
    h.at(21_500);
    h.stream({ removedMachines: [m3.id] });
    await h.round();
    h.at(60_000);
    await h.round();
    expect(h.planner.applied).toEqual([]);
    expect(h.planner.statuses.at(-1)).toEqual({
      massLoss: expect.stringMatching(/^2 of 3 machines lost contact at once/),
      heldMachines: [
        { machineId: m2.id, reason: expect.stringMatching(/^2 of 3 machines/) },
        { machineId: m3.id, reason: expect.stringMatching(/^2 of 3 machines/) },
      ],
    });
    const reports = h.planner.statuses.length;
    h.at(61_000);
    h.stream({ machines: [m2, m3] });
    await h.round();
    expect(h.planner.applied).toEqual([]);
    expect(h.where()).toEqual({ "a.service": m1.id, "b.service": m2.id, "c.service": m3.id });
    // The status is stored when it changes, not every round.
    expect(h.planner.statuses.slice(reports)).toEqual([{ massLoss: "", heldMachines: [] }]);
    await h.stop();
  });

  it("a gateway outage longer than agent_ttl: the re-synced view lacks every machine, they re-register within the grace period, nothing moves", async () => {
    const h = await harness(cluster);
    h.planner.leases = [];
    h.at(30_000);
    h.resync({ machines: [] });
    await h.round();
    h.at(31_000);
    h.stream({ machines: [m1] });
    await h.round();
    h.at(32_000);
    h.stream({ machines: [m2, m3] });
    h.planner.leases = healthy(m1, m2, m3);
    await h.round();
    h.at(40_000);
    await h.round();
    expect(h.planner.applied).toEqual([]);
    await h.stop();
  });

  it("after a re-sync, a machine that does not return within agent_ttl is lost and its units move", async () => {
    const h = await harness(cluster);
    h.at(30_000);
    h.resync({ machines: [m1, m3] });
    h.planner.leases = healthy(m1, m3);
    await h.round();
    expect(h.planner.applied).toEqual([]);
    expect(h.wakes).toContain(35_000);
    h.at(35_000);
    await h.round();
    expect([m1.id, m3.id]).toContain(h.where()["b.service"]);
    await h.stop();
  });

  it("a new term starts a grace period too", async () => {
    const h = await harness(cluster);
    h.planner.leases = healthy(m1, m3);
    // The harness's engine was elected at t=0: its grace ends at 5 s.
    h.at(1000);
    h.stream({ removedMachines: [m2.id] });
    await h.round();
    expect(h.planner.applied).toEqual([]);
    h.at(5000);
    await h.round();
    expect(h.where()["b.service"]).not.toBe(m2.id);
    await h.stop();
  });

  it("when the leases cannot be read, a missing machine's units stay", async () => {
    const h = await harness(cluster);
    h.planner.machineLeases = () => Promise.reject(new Error("gateway unavailable"));
    h.at(20_000);
    h.stream({ removedMachines: [m2.id] });
    await h.round();
    expect(h.planner.applied).toEqual([]);
    expect(h.wakes).toContain(20_500);
    await h.stop();
  });
});

describe("Engine round: AtMostOnce", () => {
  const cluster: ClusterSnapshot = {
    units: [amoUnit("once.service"), makeUnit("many.service")],
    placements: [placed("once.service", m2.id), placed("many.service", m2.id)],
    machines: [m1, m2, m3],
  };

  it("off a lost machine: the others move at once, it waits the margin, then moves fenced by that machine staying unregistered", async () => {
    const h = await harness(cluster);
    h.planner.leases = healthy(m1, m3);
    h.at(20_000);
    h.stream({ removedMachines: [m2.id] });
    await h.round();
    expect(h.where()["many.service"]).not.toBe(m2.id);
    expect(h.where()["once.service"]).toBe(m2.id);
    expect(h.wakes).toContain(21_000);
    h.at(21_000);
    await h.round();
    const move = h.planner.applied.at(-1);
    expect(move?.absentMachines).toEqual([m2.id]);
    expect(move?.placements.map((p) => p.unitName)).toEqual(["once.service"]);
    expect(h.where()["once.service"]).not.toBe(m2.id);
    await h.stop();
  });

  it("off a lost machine that registered again meanwhile: the gateway refuses the move, the engine stays leader and the unit stays", async () => {
    const h = await harness(cluster);
    h.planner.leases = healthy(m1, m3);
    h.at(20_000);
    h.stream({ removedMachines: [m2.id] });
    await h.round();
    // m2 is back in etcd, but the stream has not brought it yet.
    h.planner.cluster = { ...h.planner.cluster, machines: [m1, m2, m3] };
    h.at(21_000);
    await h.round();
    expect(h.where()["once.service"]).toBe(m2.id);
    h.stream({ machines: [m2] });
    await h.round();
    expect(h.where()["once.service"]).toBe(m2.id);
    await h.stop();
  });

  it("is placed only once no other machine reports it running", async () => {
    const h = await harness({ units: [amoUnit("new.service")], placements: [], machines: [m1] });
    h.planner.states = [{ name: "new.service", machineId: m2.id, hash: "", loadState: "loaded", activeState: "deactivating", subState: "stop-sigterm", currentState: "launched" }];
    h.at(1000);
    await h.round();
    expect(h.planner.applied).toEqual([]);
    expect(h.wakes).toContain(1500);
    h.planner.states = [];
    h.at(1500);
    await h.round();
    expect(h.where()).toEqual({ "new.service": m1.id });
    await h.stop();
  });
});

describe("Engine round: a replaced unit (fleet 1.0's PUT of other contents keeps the placement)", () => {
  const web = { ...m1, metadata: { role: "web" } };
  const db = { ...m2, metadata: { role: "db" } };
  const onRole = (role: string, exec = "/bin/sleep infinity"): Unit => ({
    name: "app.service",
    options: [
      { section: "Service", name: "ExecStart", value: exec },
      { section: "X-Fleet", name: "MachineMetadata", value: `role=${role}` },
    ],
    hash: `hash-${role}-${exec}`,
    desiredState: "launched",
  });
  const cluster = (): ClusterSnapshot => ({ units: [onRole("web")], placements: [placed("app.service", web.id)], machines: [web, db] });

  const cases: Array<{ name: string; replacement: Unit; where: string; writes: number }> = [
    { name: "new contents, same [X-Fleet]: it stays on its machine (the agent there restarts it)", replacement: onRole("web", "/bin/sleep 1000"), where: web.id, writes: 0 },
    { name: "MachineMetadata its machine no longer matches: it moves at once", replacement: onRole("db"), where: db.id, writes: 1 },
    {
      name: "MachineID of another machine: it moves there",
      replacement: { ...onRole("web"), options: [{ section: "X-Fleet", name: "MachineID", value: db.id }], hash: "pinned" },
      where: db.id,
      writes: 1,
    },
    { name: "replaced inactive: it is unscheduled", replacement: { ...onRole("web", "/bin/true"), desiredState: "inactive" }, where: "", writes: 1 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const h = await harness(cluster());
      h.planner.leases = healthy(web, db);
      h.at(20_000);
      await h.round();
      expect(h.planner.applied).toEqual([]);
      h.stream({ units: [c.replacement] });
      await h.round();
      expect(h.planner.applied.length).toBe(c.writes);
      expect(h.where()["app.service"] ?? "").toBe(c.where);
      await h.stop();
    });
  }
});

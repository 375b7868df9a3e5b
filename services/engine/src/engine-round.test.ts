// The shape of one leader round (engine.ts): who may write, what is written once, what is
// reported, and what a lost fence does. The liveness and AtMostOnce rules are in engine.test.ts.
import { describe, expect, it } from "vitest";
import { FleetError, type ClusterSnapshot, type Placement } from "@fleet/domain";
import { FakeClock, turn } from "@fleet/domain/fixtures";
import { createLogger } from "@fleet/wire";
import { ClusterReplica } from "./cluster-replica.js";
import { Engine, type EngineStatus } from "./engine.js";
import { FakeClusterSource, hexMachine, makeUnit, RecordingPlanner } from "./fake-gateway.js";
import { Leadership, type Term } from "./leadership.js";

const log = createLogger("engine-round-test", "silent");
const [m1, m2] = [hexMachine(1), hexMachine(2)];
const notLeader = () => new FleetError("failed-precondition", "engine e1 is not the leader (fence 1)");

/** A planner whose writes the gateway refuses as the test says (the fence lost, etcd away). */
class RefusingPlanner extends RecordingPlanner {
  refuseApply: (() => Error) | undefined;
  refuseStatus: (() => Error) | undefined;
  attempts = 0;
  elect = true;

  override async apply(candidate: string, term: Term, placements: readonly Placement[], absent: readonly string[] = []): Promise<number> {
    this.attempts++;
    if (this.refuseApply) throw this.refuseApply();
    return super.apply(candidate, term, placements, absent);
  }
  override async reportStatus(candidate: string, term: Term, status: EngineStatus): Promise<void> {
    if (this.refuseStatus) throw this.refuseStatus();
    return super.reportStatus(candidate, term, status);
  }
  override async acquire(candidateId: string): Promise<{ elected: boolean; leaderId: string; term?: Term }> {
    return this.elect ? super.acquire(candidateId) : { elected: false, leaderId: "e2" };
  }
}

async function round(cluster: ClusterSnapshot, setup: (p: RefusingPlanner) => void = () => undefined) {
  const planner = new RefusingPlanner(cluster);
  setup(planner);
  const clock = new FakeClock();
  const leadership = new Leadership(planner, "e1", 3600, log, () => undefined, clock);
  leadership.start();
  await turn();
  const source = new FakeClusterSource();
  const replica = new ClusterReplica(source, log, {
    onChange: () => undefined,
    liveness: { ttlMs: 5000, unhealthyThreshold: 0.55, atMostOnceMarginMs: 1000 },
    now: () => 0,
    clock,
  });
  replica.start();
  source.snapshot(1, cluster);
  planner.minRevision = 1;
  const engine = new Engine(planner, replica, leadership, log);
  return {
    planner,
    leadership,
    /** One round; the stream then echoes what it wrote, as the gateway's would. */
    reconcile: async () => {
      const before = planner.applied.length;
      try {
        await engine.reconcile("test");
      } finally {
        const placements = planner.applied.slice(before).flatMap((a) => a.placements);
        if (placements.length > 0) source.last.onEvent({ revision: planner.minRevision, snapshot: false, delta: { placements } });
      }
    },
    stop: async () => {
      await leadership.stop();
      replica.stop();
    },
  };
}

const cluster: ClusterSnapshot = { units: [makeUnit("a.service"), makeUnit("b.service")], placements: [], machines: [m1, m2] };

describe("Engine round", () => {
  it("a standby engine decides and writes nothing", async () => {
    const r = await round(cluster, (p) => (p.elect = false));
    await r.reconcile();
    expect(r.leadership.current()).toBeUndefined();
    expect(r.planner.attempts).toBe(0);
    expect(r.planner.statuses).toEqual([]);
    await r.stop();
  });

  it("the leader places what is unplaced, and does not write the same decision again", async () => {
    const r = await round(cluster);
    await r.reconcile();
    expect(r.planner.applied).toHaveLength(1);
    const where = Object.fromEntries(r.planner.cluster.placements.map((p) => [p.unitName, p.machineId]));
    expect(new Set(Object.values(where))).toEqual(new Set([m1.id, m2.id]));
    await r.reconcile();
    expect(r.planner.applied).toHaveLength(1);
    await r.stop();
  });

  it("stores the liveness status once, and again only when it changes", async () => {
    const r = await round(cluster);
    await r.reconcile();
    await r.reconcile();
    expect(r.planner.statuses).toEqual([{ massLoss: "", heldMachines: [] }]);
    await r.stop();
  });

  it("fence lost on a write: the term is dropped, the round stops, later rounds write nothing", async () => {
    const r = await round(cluster, (p) => (p.refuseApply = notLeader));
    await r.reconcile();
    expect(r.leadership.current()).toBeUndefined();
    expect(r.planner.attempts).toBe(1);
    await r.reconcile();
    expect(r.planner.attempts).toBe(1);
    expect(r.planner.applied).toEqual([]);
    await r.stop();
  });

  it("fence lost on the status report: the term is dropped too", async () => {
    const r = await round(cluster, (p) => {
      p.refuseStatus = notLeader;
      p.refuseApply = notLeader;
    });
    await r.reconcile();
    expect(r.leadership.current()).toBeUndefined();
    expect(r.planner.applied).toEqual([]);
    await r.stop();
  });

  it("a status that cannot be stored is retried next round; the placements are written all the same", async () => {
    const r = await round(cluster, (p) => (p.refuseStatus = () => new FleetError("unavailable", "no gateway")));
    await r.reconcile();
    expect(r.planner.applied).toHaveLength(1);
    expect(r.leadership.current()).toBeDefined();
    r.planner.refuseStatus = undefined;
    await r.reconcile();
    expect(r.planner.statuses).toHaveLength(1);
    await r.stop();
  });

  it("any other write failure fails the round (the loop logs it and runs again) and keeps the term", async () => {
    const r = await round(cluster, (p) => (p.refuseApply = () => new FleetError("unavailable", "etcd is unavailable")));
    await expect(r.reconcile()).rejects.toThrow("etcd is unavailable");
    expect(r.leadership.current()).toBeDefined();
    r.planner.refuseApply = undefined;
    await r.reconcile();
    expect(r.planner.applied).toHaveLength(1);
    await r.stop();
  });
});

// The gateway's side of an agent's heartbeat stream, over a fake store: heartbeats and state
// reports share it, each answered by seq; every answer says reports are accepted there.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { createLogger, TargetState, unitStateFromWire, type MachineHeartbeatsRequest, type MachineHeartbeatsResponse, type UnitState } from "@fleet/wire";
import { FleetError } from "@fleet/domain";
import { heartbeatStreamHandler, streamRequests, type StreamServices } from "./heartbeat-stream-handler.js";
import { fakeRegistry, M1, M2, machine } from "./registry-fixture.js";

/** A MachineHeartbeats call whose agent side the test plays. */
class FakeCall extends EventEmitter {
  readonly answers: MachineHeartbeatsResponse[] = [];
  cancelled = false;
  write(res: MachineHeartbeatsResponse): void {
    this.answers.push(res);
  }
  end(): void {}
  send(req: Partial<MachineHeartbeatsRequest> & { seq: number }): void {
    this.emit("data", { machineId: M1, leaseId: "", ...req });
  }
}

const wireState = (name: string, activeState: string): UnitState => ({ name, hash: "h", machineId: "", loadState: "loaded", activeState, subState: activeState === "active" ? "running" : "dead", currentState: TargetState.TARGET_STATE_LAUNCHED, reason: "" });

async function setup() {
  const { registry } = fakeRegistry();
  const { leaseId } = await registry.machines.register(machine(M1), 30);
  let etcdDown = false;
  const services: StreamServices = {
    scheduleRevision: () => 7,
    report: (req) => registry.states.report(req.machineId, req.leaseId, req.states.map((s) => unitStateFromWire({ ...s, machineId: req.machineId })), req.removed),
    schedule: async (req) => {
      if (etcdDown) throw new FleetError("unavailable", "etcd is unavailable");
      return { units: [], machines: [], revision: 40 + req.minRevision };
    },
  };
  const call = new FakeCall();
  heartbeatStreamHandler(registry, createLogger("heartbeat-stream-test", "silent"), services)(call as never);
  /** Until every message sent so far is answered. */
  const answered = async (n: number) => {
    for (let i = 0; i < 100 && call.answers.length < n; i++) await new Promise((r) => setImmediate(r));
    return call.answers;
  };
  return { registry, leaseId, call, answered, failEtcd: () => (etcdDown = true) };
}

describe("an agent's heartbeat stream at the gateway", () => {
  it("answers heartbeats by seq, saying it accepts state reports", async () => {
    const { leaseId, call, answered } = await setup();
    call.send({ leaseId, seq: 1 });
    const [a] = await answered(1);
    expect(a).toEqual({ seq: 1, alive: true, errorKind: "", errorMessage: "", scheduleRevision: 7, acceptsReports: true, acceptsScheduleReads: true });
  });

  it("writes a report's states and removals in the order the stream brings them", async () => {
    const { registry, leaseId, call, answered } = await setup();
    call.send({ leaseId, seq: 1, report: { states: [wireState("a.service", "activating"), wireState("b.service", "active")], removed: [] } });
    call.send({ leaseId, seq: 2, report: { states: [wireState("a.service", "active")], removed: ["b.service"] } });
    const answers = await answered(2);
    expect(answers.map((a) => [a.seq, a.errorKind])).toEqual([
      [1, ""],
      [2, ""],
    ]);
    expect(registry.states.list(M1, []).map((s) => [s.name, s.activeState, s.machineId])).toEqual([["a.service", "active", M1]]);
  });

  it("refuses a report under a lease the machine is not registered under, and one naming an invalid unit, writing nothing", async () => {
    const { registry, leaseId, call, answered } = await setup();
    call.send({ leaseId: "999", seq: 1, report: { states: [wireState("a.service", "active")], removed: [] } });
    call.send({ leaseId, seq: 2, report: { states: [wireState("../etc.service", "active")], removed: [] } });
    call.send({ machineId: M2, leaseId, seq: 3, report: { states: [wireState("c.service", "active")], removed: [] } });
    // Answered by seq, not necessarily in order.
    const answers = [...(await answered(3))].sort((a, b) => a.seq - b.seq);
    expect(answers.map((a) => [a.seq, a.errorKind, a.alive])).toEqual([
      [1, "failed-precondition", false],
      [2, "invalid-argument", false],
      [3, "failed-precondition", false],
    ]);
    expect(answers[0]?.errorMessage).toMatch(/is not registered under lease 999/);
    expect(registry.states.list("", [])).toEqual([]);
    const counted = Object.fromEntries((await streamRequests.get()).values.filter((v) => v.labels.kind === "report").map((v) => [v.labels.outcome, v.value]));
    expect(counted).toMatchObject({ "failed-precondition": 2, "invalid-argument": 1 });
  });

  it("answers a schedule read as GetMachineSchedule would, and its failure with the error's kind", async () => {
    const { call, answered, failEtcd } = await setup();
    call.send({ seq: 1, scheduleRead: { minRevision: 2 } });
    const [a] = await answered(1);
    expect(a).toMatchObject({ seq: 1, errorKind: "", schedule: { units: [], machines: [], revision: 42 } });
    failEtcd();
    call.send({ seq: 2, scheduleRead: { minRevision: 0 } });
    const [, b] = await answered(2);
    expect(b).toMatchObject({ seq: 2, errorKind: "unavailable", errorMessage: "etcd is unavailable" });
    expect(b?.schedule).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { machineSubject, unitHash, type Hint } from "@fleet/domain";
import { machineToWire, TargetState } from "@fleet/wire";
import { FloorRegistry, floorUnit } from "./floor-registry.js";

function registry(machines: number) {
  let now = 0;
  const published: { subject: string; hint: Hint }[] = [];
  const reg = new FloorRegistry({ publish: (subject, hint) => published.push({ subject, hint }) }, 5_000, () => now);
  const leases = new Map<string, string>();
  for (let i = 0; i < machines; i++) {
    const id = `m${i}`;
    leases.set(id, reg.register({ machine: machineToWire({ id, publicIp: "127.0.0.1", metadata: {} }), ttlSeconds: 5 }).leaseId);
  }
  const active = (id: string, names: string[]) => reg.report({ machineId: id, leaseId: leases.get(id)!, states: names.map((name) => ({ name, hash: "", machineId: id, loadState: "loaded", activeState: "active", subState: "running", currentState: TargetState.TARGET_STATE_LAUNCHED, reason: "" })), removed: [] });
  return { reg, published, leases, active, advance: (ms: number) => (now += ms) };
}

describe("the agents floor's registry", () => {
  it("hands units out with the hash agents compute, launched", () => {
    const u = floorUnit("a.service");
    expect(u.hash).toBe(unitHash(u.options));
    expect(u.hash).toMatch(/^[0-9a-f]{40}$/);
  });

  it("places each batch on the least-loaded machines and hints each machine once", () => {
    const { reg, published } = registry(3);
    reg.place(["a.service", "b.service"]);
    reg.place(["c.service", "d.service", "e.service", "f.service"]);
    const counts = ["m0", "m1", "m2"].map((id) => reg.schedule(id).units.length);
    expect(counts).toEqual([2, 2, 2]);
    expect(published.filter((p) => p.hint.revision === published.at(-1)!.hint.revision).map((p) => p.subject).sort()).toEqual(["m0", "m1", "m2"].map(machineSubject).sort());
    expect(reg.schedule("m0").revision).toBe(published.at(-1)!.hint.revision);
  });

  it("takes state reports and schedule reads on the heartbeat stream too, and says so in every answer", () => {
    const { reg, leases } = registry(1);
    reg.place(["a.service"]);
    const state = { name: "a.service", hash: "", machineId: "m0", loadState: "loaded", activeState: "active", subState: "running", currentState: TargetState.TARGET_STATE_LAUNCHED, reason: "" };
    expect(reg.heartbeat({ machineId: "m0", leaseId: leases.get("m0")!, seq: 1 }).acceptsReports).toBe(true);
    expect(reg.heartbeat({ machineId: "m0", leaseId: "nope", seq: 2, report: { states: [state], removed: [] } })).toMatchObject({ seq: 2, errorKind: "failed-precondition" });
    expect(reg.activeCount(["a.service"])).toBe(0);
    expect(reg.heartbeat({ machineId: "m0", leaseId: leases.get("m0")!, seq: 3, report: { states: [state], removed: [] } })).toMatchObject({ seq: 3, errorKind: "", acceptsReports: true });
    expect(reg.activeCount(["a.service"])).toBe(1);
    expect(reg.heartbeat({ machineId: "m0", leaseId: "", seq: 4, scheduleRead: { minRevision: 0 } }).schedule?.units.map((u) => u.name)).toEqual(["a.service"]);
  });

  it("counts a unit active only as reported by the machine it is placed on now", () => {
    const { reg, active } = registry(2);
    reg.place(["a.service", "b.service"]);
    const onM0 = reg.unitsOn(["m0"]);
    expect(active("m0", onM0)).toBe(true);
    expect(reg.activeCount(["a.service", "b.service"])).toBe(1);
    expect(active("m0", reg.unitsOn(["m1"]))).toBe(true); // reported by the wrong machine
    expect(reg.activeCount(["a.service", "b.service"])).toBe(1);
  });

  it("declares a machine lost agent_ttl after its last heartbeat and moves its units to the others", () => {
    const { reg, leases, active, advance } = registry(3);
    reg.place(["a.service", "b.service", "c.service"]);
    const moved = reg.unitsOn(["m2"]);
    advance(4_000);
    for (const id of ["m0", "m1"]) expect(reg.heartbeat({ machineId: id, leaseId: leases.get(id)!, seq: 1 }).alive).toBe(true);
    advance(1_500);
    reg.sweep();
    expect(reg.machines.get("m2")?.lostAt).toBe(5_500);
    expect(reg.liveMachines).toBe(2);
    expect(reg.unitsOn(["m0", "m1"]).sort()).toEqual(["a.service", "b.service", "c.service"]);
    // The lost machine's lease is dead: its heartbeats and reports are refused.
    expect(reg.heartbeat({ machineId: "m2", leaseId: leases.get("m2")!, seq: 2 }).alive).toBe(false);
    expect(active("m2", moved)).toBe(false);
    const [to] = ["m0", "m1"].filter((id) => reg.unitsOn([id]).includes(moved[0]!));
    expect(active(to!, moved)).toBe(true);
    expect(reg.activeCount(moved)).toBe(1);
  });
});

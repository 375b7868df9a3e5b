import { describe, expect, it } from "vitest";
import type { Unit } from "@fleet/domain";
import { ScheduleRevisions, scheduleConcerns } from "./schedule-revisions.js";
import type { CacheChange } from "./registry-cache.js";

const M1 = "1".repeat(32);
const M2 = "2".repeat(32);
const M3 = "3".repeat(32);
const unit = (name: string, global = false): Unit => ({
  name,
  options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }, ...(global ? [{ section: "X-Fleet", name: "Global", value: "true" }] : [])],
  hash: "h",
  desiredState: "launched",
});
const placedOn: Record<string, string> = { "a.service": M1, "b.service": "" };
const machineOf = (name: string) => placedOn[name] ?? "";

describe("scheduleConcerns", () => {
  const cases: Array<[string, CacheChange, { machines: string[]; all: boolean }]> = [
    ["a placed unit changed: its machine", { kind: "unit", name: "a.service", before: unit("a.service"), after: unit("a.service") }, { machines: [M1], all: false }],
    ["an unplaced unit changed: nobody", { kind: "unit", name: "b.service", after: unit("b.service") }, { machines: [], all: false }],
    ["a global unit: every machine", { kind: "unit", name: "g.service", after: unit("g.service", true) }, { machines: [], all: true }],
    ["a unit no longer global: every machine", { kind: "unit", name: "g.service", before: unit("g.service", true), after: unit("g.service") }, { machines: [], all: true }],
    ["a unit moved: both machines", { kind: "schedule", name: "a.service", before: { machineId: M2, reason: "" }, after: { machineId: M1, reason: "" } }, { machines: [M2, M1], all: false }],
    ["a placement removed: its machine", { kind: "schedule", name: "a.service", before: { machineId: M2, reason: "" } }, { machines: [M2], all: false }],
    ["a machine's record or metadata: that machine", { kind: "machine", id: M3 }, { machines: [M3], all: false }],
    ["a unit state: nobody", { kind: "state", machineId: M1, name: "a.service" }, { machines: [], all: false }],
    ["the engine leader: nobody", { kind: "leader", after: "engine-1" }, { machines: [], all: false }],
  ];
  for (const [name, change, expected] of cases) it(name, () => expect(scheduleConcerns(change, machineOf)).toEqual(expected));
});

describe("ScheduleRevisions", () => {
  it("is unknown (0) until the gateway loaded etcd, then never lower than the load", () => {
    const r = new ScheduleRevisions();
    expect(r.of(M1)).toBe(0);
    r.loaded(50);
    expect(r.of(M1)).toBe(50);
  });

  it("moves a machine's revision on what alters its schedule only, and every machine's on a global unit", () => {
    const r = new ScheduleRevisions();
    r.loaded(50);
    r.note([{ kind: "unit", name: "a.service", after: unit("a.service") }], 60, machineOf);
    r.note([{ kind: "state", machineId: M2, name: "x.service" }], 61, machineOf);
    expect([r.of(M1), r.of(M2)]).toEqual([60, 50]);
    r.note([{ kind: "schedule", name: "a.service", before: { machineId: M1, reason: "" }, after: { machineId: M2, reason: "" } }], 70, machineOf);
    expect([r.of(M1), r.of(M2), r.of(M3)]).toEqual([70, 70, 50]);
    r.note([{ kind: "unit", name: "g.service", after: unit("g.service", true) }], 80, machineOf);
    expect([r.of(M1), r.of(M2), r.of(M3)]).toEqual([80, 80, 80]);
  });
});

import { describe, expect, it } from "vitest";
import { ALL_MACHINES_SUBJECT, ENGINE_SUBJECT, machineSubject, type Machine, type Unit } from "@fleet/domain";
import { hintOn, hintSubjects } from "./hint-routes.js";
import type { CacheChange } from "./registry-cache.js";

const M1 = "0123456789abcdef0123456789abcdef";
const M2 = "fedcba9876543210fedcba9876543210";
const unit = (extra: Unit["options"] = []): Unit => ({
  name: "a.service",
  options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }, ...extra],
  hash: "h",
  desiredState: "launched",
});
const globalUnit = unit([{ section: "X-Fleet", name: "Global", value: "true" }]);
const machine = (metadata: Record<string, string> = {}): Machine => ({ id: M1, publicIp: "10.0.0.1", metadata });
const onM1 = (name: string) => (name === "a.service" ? M1 : "");

const cases: Array<{ name: string; change: CacheChange; subjects: string[] }> = [
  { name: "a new unit, not yet placed: the engine", change: { kind: "unit", name: "b.service", after: unit() }, subjects: [ENGINE_SUBJECT] },
  { name: "a placed unit changes: the engine and its machine", change: { kind: "unit", name: "a.service", before: unit(), after: unit() }, subjects: [ENGINE_SUBJECT, machineSubject(M1)] },
  { name: "a global unit is created: the engine and every agent", change: { kind: "unit", name: "g.service", after: globalUnit }, subjects: [ENGINE_SUBJECT, ALL_MACHINES_SUBJECT] },
  { name: "a global unit is destroyed: every agent still hears", change: { kind: "unit", name: "g.service", before: globalUnit }, subjects: [ENGINE_SUBJECT, ALL_MACHINES_SUBJECT] },
  {
    name: "a unit moves: the machine it left and the one it went to, not the engine",
    change: { kind: "schedule", name: "a.service", before: { machineId: M1, reason: "" }, after: { machineId: M2, reason: "" } },
    subjects: [machineSubject(M1), machineSubject(M2)],
  },
  { name: "a placement is dropped: its machine", change: { kind: "schedule", name: "a.service", before: { machineId: M1, reason: "" } }, subjects: [machineSubject(M1)] },
  { name: "a unit is found unplaceable: nobody", change: { kind: "schedule", name: "a.service", after: { machineId: "", reason: "no machine fits" } }, subjects: [] },
  { name: "a machine joins: the engine", change: { kind: "machine", id: M1, after: machine() }, subjects: [ENGINE_SUBJECT] },
  { name: "a machine leaves: the engine", change: { kind: "machine", id: M1, before: machine() }, subjects: [ENGINE_SUBJECT] },
  { name: "a machine re-registers unchanged: nobody", change: { kind: "machine", id: M1, before: machine({ role: "web" }), after: machine({ role: "web" }) }, subjects: [] },
  {
    name: "a machine's metadata changes: the engine and that machine",
    change: { kind: "machine", id: M1, before: machine({ role: "web" }), after: machine({ role: "db" }) },
    subjects: [ENGINE_SUBJECT, machineSubject(M1)],
  },
  { name: "the leader key vanishes: the engine (a standby campaigns)", change: { kind: "leader", before: "e1" }, subjects: [ENGINE_SUBJECT] },
  { name: "a leader is elected: nobody", change: { kind: "leader", after: "e1" }, subjects: [] },
  { name: "a unit state: nobody (the units feed carries states)", change: { kind: "state", machineId: M1, name: "a.service" }, subjects: [] },
];

describe("hintSubjects", () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(hintSubjects(c.change, onM1).sort()).toEqual([...c.subjects].sort());
    });
  }
});

describe("hintOn", () => {
  const hint = { revision: 7, what: "unit g.service", requestId: "r1" };
  it("asks every machine to spread its pass over the time the cluster takes at the rate", () => {
    expect(hintOn(ALL_MACHINES_SUBJECT, hint, 2000, 1000)).toEqual({ ...hint, spreadMs: 2000 });
  });
  it("leaves a small cluster's hint as it is: its machines pass at once", () => {
    expect(hintOn(ALL_MACHINES_SUBJECT, hint, 20, 1000)).toEqual(hint);
  });
  it("leaves it as it is with spreading turned off (rate 0)", () => {
    expect(hintOn(ALL_MACHINES_SUBJECT, hint, 5000, 0)).toEqual(hint);
  });
  it("never spreads a hint for one machine or for the engine", () => {
    expect(hintOn(machineSubject(M1), hint, 5000, 1000)).toEqual(hint);
    expect(hintOn(ENGINE_SUBJECT, hint, 5000, 1000)).toEqual(hint);
  });
});

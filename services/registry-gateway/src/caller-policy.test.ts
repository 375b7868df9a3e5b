import { describe, expect, it } from "vitest";
import { callerOf, refusal } from "./caller-policy.js";

const M1 = "a".repeat(32);
const M2 = "b".repeat(32);
const plane = { controlPlane: new Set(["fleet-api", "fleet-engine"]), sharedAgents: new Set(["fleet-agent"]) };

describe("callerOf", () => {
  it.each([
    [undefined, false, "trusted"],
    ["anything", false, "trusted"],
    ["fleet-api", true, "control-plane"],
    [M1, true, "agent"],
    ["fleet-agent", true, "shared-agent"],
    ["mallory", true, "stranger"],
    [undefined, true, "stranger"],
  ])("%s (mutual TLS %s) is %s", (cn, mtls, kind) => {
    expect(callerOf(cn, mtls, plane).kind).toBe(kind);
  });
});

describe("refusal", () => {
  const agent = callerOf(M1, true, plane);
  it.each([
    ["the control plane calls anything", callerOf("fleet-engine", true, plane), "applySchedule", undefined, undefined],
    ["an agent registers its own machine", agent, "registerMachine", M1, undefined],
    ["an agent heart-beats (stream start, machine not read yet)", agent, "machineHeartbeats", undefined, undefined],
    ["an agent reports for another machine", agent, "reportUnitStates", M2, `the agent of machine ${M1} may not act for machine ${M2}`],
    ["an agent reads the units", agent, "listUnits", undefined, `the agent of machine ${M1} may not call listUnits`],
    ["an agent writes placements", agent, "applySchedule", undefined, `the agent of machine ${M1} may not call applySchedule`],
    ["a shared agent certificate acts for any machine", callerOf("fleet-agent", true, plane), "reportUnitStates", M2, undefined],
    ["a shared agent certificate heart-beats", callerOf("fleet-agent", true, plane), "machineHeartbeats", undefined, undefined],
    ["a shared agent certificate reads the units", callerOf("fleet-agent", true, plane), "listUnits", undefined, 'agent certificate "fleet-agent" may not call listUnits'],
    ["a stranger", callerOf("mallory", true, plane), "getMachineSchedule", M1, 'certificate "mallory" may not call the registry-gateway'],
    ["no certificate", callerOf(undefined, true, plane), "listMachines", undefined, "a caller without a certificate may not call the registry-gateway"],
    ["without mutual TLS", callerOf(undefined, false, plane), "applySchedule", undefined, undefined],
  ])("%s", (_name, caller, method, machineId, why) => {
    expect(refusal(caller, method, machineId)).toBe(why);
  });
});

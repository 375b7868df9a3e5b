// The scale bench's pure parts: its options, how machines are split over worker processes,
// which machines fail over, and how a WatchUnits stream is counted.
import { describe, expect, it } from "vitest";
import { TargetState, type UnitView } from "@fleet/wire";
import { parseOptions } from "./options.js";
import { benchUnit } from "./fleet-api.js";
import { handledByMethod, loopLagMaxMs } from "./gateway-metrics.js";
import { pickVictims } from "./phase-failover.js";
import { activePairs } from "./phase-global.js";
import { simulationWhile } from "./report.js";
import { shares, simMachineId, type SimulatorStats } from "./simulators.js";
import { WatchedUnits } from "./units-watch.js";

describe("scale bench options", () => {
  it("reads numbers in either form and flags", () => {
    const o = parseOptions(["--machines", "50", "--units=500", "--ttl", "5", "--keep-logs", "--failover-share", "0"]);
    expect([o.machines, o.units, o.ttl, o.keepLogs, o.failoverShare, o.simNice]).toEqual([50, 500, 5, true, 0, 10]);
  });

  it("creates 5 global units with the gateways' own hint spread unless told otherwise", () => {
    expect([parseOptions([]).globalUnits, parseOptions([]).hintSpreadRate]).toEqual([5, 1000]);
    const o = parseOptions(["--global-units", "0", "--hint-spread-rate=0"]);
    expect([o.globalUnits, o.hintSpreadRate]).toEqual([0, 0]);
  });

  it.each([
    [["--machines", "0"], /--machines wants an integer in 1\.\.20000, got "0"/],
    [["--ttl", "2.5"], /--ttl wants an integer/],
    [["--failover-share", "0.9"], /--failover-share wants a number in 0\.\.0\.5/],
    [["--units"], /--units wants an integer in 0\.\.200000, got undefined/],
    [["--agent-log", "loud"], /--agent-log wants error, warn, info, debug or silent/],
    [["--machine", "5"], /unknown option "--machine"/],
    [["--hint-spread-rate", "-1"], /--hint-spread-rate wants an integer in 0\.\.1000000/],
    [["--global-units", "1.5"], /--global-units wants an integer/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(message);
  });
});

describe("simulated machines", () => {
  it("get distinct 32-hex ids that start with the run's", () => {
    const ids = [0, 1, 255, 4096].map((i) => simMachineId("0badcafe", i));
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^0badcafe[0-9a-f]{24}$/);
  });

  it("are split over as few workers as perWorker allows, evenly", () => {
    const ids = Array.from({ length: 1001 }, (_, i) => String(i));
    const groups = shares(ids, 250);
    expect(groups.map((g) => g.length)).toEqual([201, 200, 200, 200, 200]);
    expect(groups.flat().sort()).toEqual([...ids].sort());
    expect(shares(["a"], 250)).toEqual([["a"]]);
  });

  it("fail over as a share spread over the list", () => {
    const ids = Array.from({ length: 10 }, (_, i) => `m${i}`);
    expect(pickVictims(ids, 0.3)).toEqual(["m0", "m3", "m6"]);
    expect(pickVictims(ids, 0)).toEqual([]);
    expect(new Set(pickVictims(Array.from({ length: 1000 }, (_, i) => i.toString()), 0.1)).size).toBe(100);
  });
});

describe("units followed on WatchUnits", () => {
  const view = (name: string, machineId: string, launched: boolean): UnitView => ({
    unit: { name, options: [], hash: "", desiredState: TargetState.TARGET_STATE_LAUNCHED },
    machineId,
    currentState: launched ? TargetState.TARGET_STATE_LAUNCHED : TargetState.TARGET_STATE_INACTIVE,
    reason: "",
  });

  it("counts placed and launched units on the machines it accepts, and takes changes back", () => {
    const w = new WatchedUnits(new Set(["a.service", "b.service"]), (m) => m !== "dead");
    w.apply([view("a.service", "dead", true), view("b.service", "m1", false), view("other.service", "m1", true)]);
    expect([w.placed, w.launched, w.all]).toEqual([1, 0, 2]);
    w.apply([view("a.service", "m2", true), view("b.service", "m1", true)]);
    expect([w.placed, w.launched]).toEqual([2, 2]);
    w.apply([view("b.service", "", false)]);
    expect([w.placed, w.launched]).toEqual([1, 1]);
  });
});

describe("the simulation over a phase", () => {
  const stats = (registrations: number, failures: number, p99: number): SimulatorStats => ({
    machines: 1000,
    running: 1000,
    registrations,
    activeUnits: 0,
    warnings: failures ? { "heartbeat failed; retrying": failures, "reconcile failed": 7 } : {},
    workerRssBytes: [],
    loopDelayP99Ms: p99,
    loopDelayMaxMs: p99,
  });

  it("counts the machines that registered again, the heartbeats that failed and the worst loop lag meanwhile", () => {
    const s = simulationWhile(stats(1000, 0, 20), stats(1118, 23, 800), [2262.8, 1717.6, undefined].map((p99, t) => ({ t, load: undefined, ...(p99 === undefined ? {} : { simLoopP99Ms: p99 }) })));
    expect(s).toEqual({ reRegistrations: 118, heartbeatFailures: 23, loopP99MaxMs: 2262.8 });
    expect(simulationWhile(stats(1000, 5, 20), stats(1000, 5, 30), []).reRegistrations).toBe(0);
  });
});

describe("the gateways' calls", () => {
  it("are read by method from /metrics, stream state reports apart", () => {
    const text = [
      'fleet_grpc_server_handled_total{service="fleet.internal.v1.RegistryService",method="ReportUnitStates",code="OK"} 10',
      'fleet_grpc_server_handled_total{service="fleet.internal.v1.RegistryService",method="ReportUnitStates",code="FAILED_PRECONDITION"} 2',
      'fleet_grpc_server_handled_total{service="fleet.internal.v1.RegistryService",method="GetMachineSchedule",code="OK"} 3e+3',
      'fleet_gateway_stream_requests_total{kind="report",outcome="ok"} 4000',
      'fleet_gateway_stream_requests_total{kind="report",outcome="failed-precondition"} 5',
      'fleet_gateway_stream_requests_total{kind="schedule",outcome="ok"} 2000',
    ].join("\n");
    expect(Object.fromEntries(handledByMethod(text))).toEqual({ ReportUnitStates: 12, GetMachineSchedule: 3000, "ReportUnitStates (stream)": 4005, "GetMachineSchedule (stream)": 2000 });
  });
});

describe("global units", () => {
  it("are the bench's unit with X-Fleet Global=true", () => {
    expect(benchUnit("g.service", true).options).toContainEqual({ section: "X-Fleet", name: "Global", value: "true" });
    expect(benchUnit("a.service").options.some((o) => o.section === "X-Fleet")).toBe(false);
  });

  it("count the (unit, machine) pairs of theirs that are active", () => {
    const state = (name: string, machineId: string, activeState: string) => ({
      name,
      machineId,
      hash: "h",
      loadState: "loaded",
      activeState,
      subState: "running",
      currentState: TargetState.TARGET_STATE_LAUNCHED,
      reason: "",
    });
    const states = [state("g1.service", "m1", "active"), state("g1.service", "m2", "activating"), state("g2.service", "m1", "active"), state("other.service", "m1", "active")];
    expect(activePairs(new Set(["g1.service", "g2.service"]), states)).toBe(2);
  });
});

describe("a gateway's event-loop delay", () => {
  it("is read from prom-client's max since the last scrape, in ms", () => {
    expect(loopLagMaxMs("# HELP x\nfleet_nodejs_eventloop_lag_max_seconds 0.0301234\nfleet_nodejs_eventloop_lag_p99_seconds 0.01\n")).toBe(30.1);
    expect(loopLagMaxMs("fleet_grpc_server_handled_total{method=\"X\"} 1\n")).toBeUndefined();
  });
});

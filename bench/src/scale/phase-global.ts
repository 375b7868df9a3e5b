// Global units: K units with X-Fleet Global=true, created in one CreateUnits. No engine places
// them: every machine hears one hint for each (fleet.hints.machines), reads its schedule and
// starts them, its passes spread over the time the gateways' hint_spread_rate gives (machines /
// rate seconds; --hint-spread-rate 0: all at once). That is the one change that wakes every
// machine, the reconcile storm the spread is for. Measured from the create's return: when half,
// 90 % and all of the (unit, machine) pairs are reported active (ListUnitStates of those units
// every 200 ms, which the api answers from its replica), the gateways' longest event-loop delay
// and their CPU meanwhile, the agents' requests per machine, and the simulation's health.
import { performance } from "node:perf_hooks";
import { hintSpreadMs } from "@fleet/domain";
import { sleep } from "@fleet/launcher";
import type { UnitState } from "@fleet/wire";
import type { FleetApi } from "./fleet-api.js";
import { callsPerMachine, scrapeGateways } from "./gateway-metrics.js";
import { cpuPercent, cpuSnapshot, type NamedProc } from "./proc-stats.js";
import { simulationWhile, type SimulationWhile } from "./report.js";
import type { Sample } from "./sampler.js";
import type { Simulators } from "./simulators.js";

const POLL_MS = 200;

export interface GlobalPhase {
  units: number;
  machines: number;
  /** The spread the gateways' hints ask for (hint_spread_rate), 0 when none. */
  spreadMs: number;
  createMs: number;
  /** From the create's return until half, 90 % and all of the (unit, machine) pairs were active. */
  halfActiveMs: number | undefined;
  ninetyActiveMs: number | undefined;
  activeMs: number | undefined;
  /** Each gateway's longest event-loop delay meanwhile (ms). */
  gatewayLoopLagMaxMs: Record<string, number>;
  /** Each control-plane process's CPU meanwhile (1 core = 100 %). */
  cpuPercent: Record<string, number>;
  gatewayCallsPerMachine: Record<string, number>;
  simulation: SimulationWhile;
}

/** (unit, machine) pairs of `names` that are active. Pure. */
export function activePairs(names: ReadonlySet<string>, states: readonly UnitState[]): number {
  let n = 0;
  for (const s of states) if (names.has(s.name) && s.activeState === "active") n++;
  return n;
}

interface GlobalContext {
  api: FleetApi;
  names: string[];
  machines: number;
  /** The gateways' hint_spread_rate, as they were started with it. */
  spreadRate: number;
  components: ReadonlyArray<{ kind: string; name: string; metricsUrl?: string }>;
  procs: readonly NamedProc[];
  simulators: Simulators;
  samples: () => readonly Sample[];
  timeoutMs: number;
  log: (m: string) => void;
}

export async function phaseGlobal(o: GlobalContext): Promise<GlobalPhase> {
  const names = new Set(o.names);
  const all = names.size * o.machines;
  // This scrape also starts the gateways' loop-lag window: prom-client reports the longest delay since the previous one.
  const [{ calls: calls0 }, sims0, samplesFrom] = [await scrapeGateways(o.components), await o.simulators.stats(), o.samples().length];
  const cpu0 = cpuSnapshot(o.procs);
  const spreadMs = hintSpreadMs(o.machines, o.spreadRate);
  o.log(`global units: creating ${names.size} on every one of ${o.machines} machines (hints ask for a spread of ${spreadMs} ms)`);
  const t0 = performance.now();
  await o.api.createUnits(o.names, true);
  const tCreated = performance.now();
  const r: Omit<GlobalPhase, "gatewayLoopLagMaxMs" | "cpuPercent" | "gatewayCallsPerMachine" | "simulation"> = {
    units: names.size,
    machines: o.machines,
    spreadMs,
    createMs: tCreated - t0,
    halfActiveMs: undefined,
    ninetyActiveMs: undefined,
    activeMs: undefined,
  };
  let active = 0;
  while (r.activeMs === undefined) {
    active = activePairs(names, await o.api.states(o.names));
    const at = performance.now() - tCreated;
    if (active >= all / 2) r.halfActiveMs ??= at;
    if (active >= all * 0.9) r.ninetyActiveMs ??= at;
    if (active >= all) r.activeMs = at;
    else if (at > o.timeoutMs) {
      const seen = (x: number | undefined) => (x === undefined ? "never" : `after ${Math.round(x)} ms`);
      throw new Error(`global units: after ${o.timeoutMs} ms, ${active} of ${all} (unit, machine) pairs active (half ${seen(r.halfActiveMs)}, 90 % ${seen(r.ninetyActiveMs)})`);
    }
    else await sleep(POLL_MS);
  }
  const cpu = cpuPercent(cpu0, cpuSnapshot(o.procs));
  const gateways = await scrapeGateways(o.components);
  const phase: GlobalPhase = {
    ...r,
    gatewayLoopLagMaxMs: gateways.loopLagMaxMs,
    cpuPercent: Object.fromEntries(Object.entries(cpu).filter(([name]) => !name.startsWith("sim-"))),
    gatewayCallsPerMachine: callsPerMachine(calls0, gateways.calls, o.machines),
    simulation: simulationWhile(sims0, await o.simulators.stats(), o.samples().slice(samplesFrom)),
  };
  const ms = (x: number | undefined) => (x === undefined ? "-" : `${Math.round(x)} ms`);
  o.log(
    `global units: half the (unit, machine) pairs active after ${ms(r.halfActiveMs)}, 90 % ${ms(r.ninetyActiveMs)}, all ${ms(r.activeMs)}; ` +
      `gateway loop lag max ${JSON.stringify(phase.gatewayLoopLagMaxMs)} ms, CPU % ${JSON.stringify(phase.cpuPercent)}; per machine ${JSON.stringify(phase.gatewayCallsPerMachine)}; ` +
      `${phase.simulation.reRegistrations} machines registered again, simulator loop lag p99 up to ${phase.simulation.loopP99MaxMs} ms`,
  );
  return phase;
}

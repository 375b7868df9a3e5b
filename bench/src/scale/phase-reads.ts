// The read path at scale: fleet's HTTP API v1 list of units, 100 to a page, with CLIENTS
// concurrent clients for READ_SECONDS (req/s, p50, p99), and fleetctl's list-units and
// list-machines over the whole cluster, timed as a user runs them (a fresh process each).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";

const run = promisify(execFile);

export const CLIENTS = 16;
export const READ_SECONDS = 5;
/** The page size of GET /fleet/v1/units (fleet's, fixed). */
export const PAGE_SIZE = 100;

export interface Reads {
  readonly clients: number;
  readonly unitsPageRequestsPerSecond: number;
  readonly unitsPageP50Ms: number;
  readonly unitsPageP99Ms: number;
  readonly unitsPageErrors: number;
  /** fleetctl list-units over every unit, ms (best of 3). */
  readonly fleetctlListUnitsMs: number;
  readonly fleetctlListUnitsLines: number;
  /** fleetctl list-machines over every machine, ms (best of 3). */
  readonly fleetctlListMachinesMs: number;
  readonly fleetctlListMachinesLines: number;
}

/** The q-quantile of sorted values (nearest rank). Pure. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

async function unitsPages(apiHttp: string): Promise<{ perSecond: number; p50: number; p99: number; errors: number }> {
  const url = `${apiHttp}/fleet/v1/units`;
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + READ_SECONDS * 1000;
  const client = async (): Promise<void> => {
    while (performance.now() < until) {
      const t = performance.now();
      try {
        const res = await fetch(url);
        const body = (await res.json()) as { units?: unknown[] };
        if (!res.ok || !Array.isArray(body.units) || body.units.length === 0) errors++;
        else latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { perSecond: r(latencies.length / seconds), p50: r(quantile(latencies, 0.5)), p99: r(quantile(latencies, 0.99)), errors };
}

async function timeFleetctl(root: string, endpoint: string, args: string[]): Promise<{ ms: number; lines: number }> {
  let best = Number.POSITIVE_INFINITY;
  let lines = 0;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const { stdout } = await run(join(root, "clients", "fleetctl", "bin", "fleetctl"), [`--endpoint=${endpoint}`, ...args], { maxBuffer: 256 * 1024 * 1024 });
    best = Math.min(best, performance.now() - t);
    lines = stdout.split("\n").filter((l) => l !== "").length;
  }
  return { ms: Math.round(best), lines };
}

export async function phaseReads(o: { root: string; apiHttp: string; apiEndpoint: string; log: (m: string) => void }): Promise<Reads> {
  const pages = await unitsPages(o.apiHttp);
  o.log(`reads: GET /fleet/v1/units (${PAGE_SIZE} a page), ${CLIENTS} clients: ${pages.perSecond} req/s, p50 ${pages.p50} ms, p99 ${pages.p99} ms, ${pages.errors} errors`);
  const units = await timeFleetctl(o.root, o.apiEndpoint, ["list-units", "--no-legend"]);
  const machines = await timeFleetctl(o.root, o.apiEndpoint, ["list-machines", "--no-legend"]);
  o.log(`reads: fleetctl list-units ${units.ms} ms (${units.lines} lines), list-machines ${machines.ms} ms (${machines.lines} lines)`);
  return {
    clients: CLIENTS,
    unitsPageRequestsPerSecond: pages.perSecond,
    unitsPageP50Ms: pages.p50,
    unitsPageP99Ms: pages.p99,
    unitsPageErrors: pages.errors,
    fleetctlListUnitsMs: units.ms,
    fleetctlListUnitsLines: units.lines,
    fleetctlListMachinesMs: machines.ms,
    fleetctlListMachinesLines: machines.lines,
  };
}

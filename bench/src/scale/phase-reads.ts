// The read path at scale: fleet's HTTP API v1 list of units, 100 to a page, with CLIENTS
// concurrent clients for READ_SECONDS (req/s, p50, p99), and fleetctl's list-units and
// list-machines over the whole cluster, timed as a user runs them (a fresh process each).
//
// The floor of the page figure: the same clients against a bare node:http server (its own
// process) answering every request with the very bytes of the api's first page, under the same
// load (the simulated machines keep running). The api cannot serve pages faster than that.
import { execFile, spawn } from "node:child_process";
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
  /** The floor: a bare node:http server answering with the same page's bytes. */
  readonly floorPageRequestsPerSecond: number;
  readonly floorPageP99Ms: number;
  readonly pageBytes: number;
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

/** Seconds of requests before each measurement, not counted (the client's code warms up). */
const WARMUP_SECONDS = 1;

async function unitsPages(url: string): Promise<{ perSecond: number; p50: number; p99: number; errors: number }> {
  const run = async (seconds: number) => {
    const latencies: number[] = [];
    let errors = 0;
    const until = performance.now() + seconds * 1000;
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
    return { latencies, errors, seconds: (performance.now() - t0) / 1000 };
  };
  await run(WARMUP_SECONDS);
  const { latencies, errors, seconds } = await run(READ_SECONDS);
  latencies.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { perSecond: r(latencies.length / seconds), p50: r(quantile(latencies, 0.5)), p99: r(quantile(latencies, 0.99)), errors };
}

/** fleetctl with `args` against the api, a new process each time: the best of 3, and the lines it printed. */
export async function timeFleetctl(root: string, endpoint: string, args: string[]): Promise<{ ms: number; lines: number }> {
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

const FLOOR_SERVER = `
const body = Buffer.from(process.env.PAGE_BODY, "base64");
require("node:http").createServer((req, res) => { req.resume(); res.writeHead(200, { "content-type": "application/json" }); res.end(body); })
  .listen(0, "127.0.0.1", function () { process.stdout.write(String(this.address().port) + "\\n"); });`;

/** The page figure of a bare server answering with `body`, measured as the api's is. */
async function floorPages(body: Buffer): Promise<{ perSecond: number; p99: number }> {
  const child = spawn(process.execPath, ["-e", FLOOR_SERVER], { env: { PAGE_BODY: body.toString("base64") }, stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout.once("data", (d: Buffer) => resolve(d.toString().trim()));
      child.once("exit", () => reject(new Error("the floor server exited")));
    });
    const floor = await unitsPages(`http://127.0.0.1:${port}/fleet/v1/units`);
    return { perSecond: floor.perSecond, p99: floor.p99 };
  } finally {
    child.kill();
  }
}

export async function phaseReads(o: { root: string; apiHttp: string; apiEndpoint: string; log: (m: string) => void }): Promise<Reads> {
  const url = `${o.apiHttp}/fleet/v1/units`;
  const body = Buffer.from(await (await fetch(url)).arrayBuffer());
  const floor = await floorPages(body);
  o.log(`reads: floor (a bare node:http server, the same ${body.length}-byte page): ${floor.perSecond} req/s, p99 ${floor.p99} ms`);
  const pages = await unitsPages(url);
  o.log(`reads: GET /fleet/v1/units (${PAGE_SIZE} a page), ${CLIENTS} clients: ${pages.perSecond} req/s, p50 ${pages.p50} ms, p99 ${pages.p99} ms, ${pages.errors} errors`);
  const units = await timeFleetctl(o.root, o.apiEndpoint, ["list-units", "--no-legend"]);
  const machines = await timeFleetctl(o.root, o.apiEndpoint, ["list-machines", "--no-legend"]);
  o.log(`reads: fleetctl list-units ${units.ms} ms (${units.lines} lines), list-machines ${machines.ms} ms (${machines.lines} lines)`);
  return {
    clients: CLIENTS,
    floorPageRequestsPerSecond: floor.perSecond,
    floorPageP99Ms: floor.p99,
    pageBytes: body.length,
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

// The bench's knobs, targets and the small helpers every phase uses.
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

/** The repository root (this file is bench/{src,dist}/run/config.*). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const RESULTS_DIR = join(ROOT, "bench", "results");

export const N_SINGLE = Number(process.env.BENCH_SINGLE ?? 20);
export const N_BATCH = Number(process.env.BENCH_BATCH ?? 100);
export const N_WARMUP = 2;
export const AGENT_TTL_S = 5;
export const RECONCILE_S = 5;
export const CLUSTER = "bench";
export const STATE_DIR = process.env.BENCH_STATE_DIR ?? "/var/tmp/fleet-dev/bench";
export const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_S ?? 570) * 1000;
export const MACHINES = ["m1", "m2", "m3"];
export const POLL_MS = 5;
/** Polling while counting etcd requests: slower, and its own cost is calibrated and subtracted. */
export const ETCD_POLL_MS = 50;

export const TARGETS = {
  singleP50Ms: 250,
  singleP99Ms: 1000,
  batchMs: 1500,
  failoverMs: (AGENT_TTL_S + 1) * 1000,
  agentRssMB: 60,
  etcdPerUnit: 5,
};
export const ORIGINAL_FLEET = {
  singleMs: "~3300",
  batchMs: "3000-8000",
  etcdPerUnit: "~50-64",
};

export const t0Run = Date.now();
export const log = (msg: string): void => {
  process.stderr.write(`[bench +${((Date.now() - t0Run) / 1000).toFixed(1)}s] ${msg}\n`);
};
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const now = (): number => performance.now();
/** x rounded to d decimals; null for a missing or NaN value (the JSON's "no figure"). */
export const round = (x: number | null | undefined, d = 1): number | null =>
  x === undefined || x === null || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d;

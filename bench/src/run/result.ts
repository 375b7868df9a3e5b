// The JSON object a run prints on its last line and writes to bench/results/latest.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EtcdFigure, IdleRate, PollCost } from "./etcd-requests.js";
import type { SingleApi, SingleCli } from "./phases-single.js";
import type { phaseBatchCli, phaseFailover, phaseSystemdFloor } from "./phases-batch.js";
import type { RssRow } from "./rss.js";
import { log, ORIGINAL_FLEET, RESULTS_DIR, TARGETS } from "./config.js";

export interface BenchResult {
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number | null;
  host: { node: string; cpus: number; loadavgAtStart: (number | null)[]; loadavgAtEnd?: (number | null)[] };
  commit: string | undefined;
  config: Record<string, number>;
  targets: typeof TARGETS;
  originalFleet: typeof ORIGINAL_FLEET;
  notes: string[];
  errors: string[];
  clusterStartMs?: number | null;
  etcd?: { idleNoUnits: IdleRate; pollCost: PollCost; singles?: EtcdFigure; batch?: EtcdFigure; idleWithUnits?: IdleRate };
  singleApi?: SingleApi;
  singleCli?: SingleCli;
  batch?: { units: number; allActiveMs: number | null; allCreateRpcsReturnedMs: number | null; firstActiveMs: number | null; distribution: Record<string, number> };
  batchCli?: Awaited<ReturnType<typeof phaseBatchCli>>;
  batchSystemdFloor?: Awaited<ReturnType<typeof phaseSystemdFloor>>;
  rss?: RssRow[];
  failover?: Awaited<ReturnType<typeof phaseFailover>>;
}

export function writeResults(result: BenchResult): void {
  try {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, "latest.json"), JSON.stringify(result, null, 2) + "\n");
  } catch (e) {
    log(`could not write results: ${String(e)}`);
  }
}

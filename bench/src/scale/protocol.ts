// The messages between the scale bench and its worker processes (sim-worker.ts), over the
// IPC channel of child_process.fork.

/** What every simulated machine of a worker is built with. */
export interface SimConfig {
  gateway: string;
  natsServers: string[];
  ttlSeconds: number;
  reconcileSeconds: number;
  unitsDir: string;
  logLevel: string;
}

export type ToWorker =
  | { type: "init"; config: SimConfig; ids: string[]; seq?: number }
  | { type: "go"; rampMs?: number; seq?: number }
  | { type: "stats"; seq: number }
  | { type: "kill"; ids: string[]; seq: number }
  | { type: "stop"; seq?: number };

export interface WorkerStats {
  type: "stats";
  seq: number;
  machines: number;
  running: number;
  registrations: number;
  activeUnits: number;
  warnings: Record<string, number>;
  rssBytes: number;
  loop: { p99Ms: number; maxMs: number };
}

export type FromWorker = { type: "ready" } | WorkerStats | { type: "killed"; seq: number } | { type: "error"; error: string };

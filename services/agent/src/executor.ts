// Applies the agent's plan against systemd and the disk. Tasks are independent: one failure is
// logged and the rest of the pass goes on.
import type { AgentTask } from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import type { UnitManager } from "./systemd.js";
import type { UnitFiles } from "./unit-files.js";

export interface TaskResult {
  readonly task: AgentTask;
  readonly error?: string;
}

const STOP_TIMEOUT_MS = 120_000;
/** How long a pass waits for start jobs before reporting; slow starts report on later signals. */
const START_WAIT_MS = 5_000;

/** Called as each start finishes, before the rest of the pass: its unit can be reported at once. */
export type StartedListener = (unit: string) => void;

export interface ExecuteOptions {
  /** AtMostOnce units: systemd refuses their start ("dependency") while the fence is not armed,
   * which fails the task (the next pass retries) instead of counting the unit launched. */
  readonly fenced?: ReadonlySet<string>;
}

export async function executeTasks(
  tasks: readonly AgentTask[],
  systemd: UnitManager,
  files: UnitFiles,
  log: Logger,
  onStarted: StartedListener = () => {},
  options: ExecuteOptions = {},
): Promise<TaskResult[]> {
  const results: TaskResult[] = [];
  const failedStops = new Set<string>();
  /** Units whose file could not be written: not linked, enabled or started this pass. */
  const failedWrites = new Set<string>();
  // Stops run together (each waits for its job), then removals in order, then file writes
  // together, then one LinkUnitFiles call for every new file, then the rest in order, and
  // finally the starts together.
  const stops = tasks.filter((t) => t.kind === "stop");
  const starts = tasks.filter((t) => t.kind === "start");
  const writes = tasks.filter((t) => t.kind === "write-file");
  const links = tasks.filter((t) => t.kind === "link");
  const removals = tasks.filter((t) => t.kind === "disable" || t.kind === "unlink" || t.kind === "remove-file");
  const rest = tasks.filter((t) => !["stop", "start", "write-file", "link", "disable", "unlink", "remove-file"].includes(t.kind));

  const run = async (task: AgentTask): Promise<void> => {
    const unit = "unit" in task ? task.unit : undefined;
    try {
      switch (task.kind) {
        case "stop":
          await systemd.stopUnit(task.unit, STOP_TIMEOUT_MS);
          break;
        case "unlink":
          if (failedStops.has(task.unit)) throw new Error("not unlinked: the unit did not stop");
          await files.unlink(task.unit);
          break;
        case "remove-file":
          if (failedStops.has(task.unit)) throw new Error("not removed: the unit did not stop");
          await files.remove(task.unit);
          break;
        case "write-file":
          await files.write(task.unit, task.contents);
          break;
        case "link":
          if (failedWrites.has(task.unit)) throw new Error("not linked: its file was not written");
          await systemd.linkUnitFiles([files.pathOf(task.unit)]);
          break;
        case "enable":
          if (failedWrites.has(task.unit)) throw new Error("not enabled: its file was not written");
          await systemd.enableUnitFiles([task.unit]);
          break;
        case "disable":
          if (failedStops.has(task.unit)) throw new Error("not disabled: the unit did not stop");
          await systemd.disableUnitFiles([task.unit]);
          break;
        case "daemon-reload":
          await systemd.reload();
          break;
        case "reset-failed":
          await systemd.resetFailedUnit(task.unit);
          break;
        case "start": {
          if (failedWrites.has(task.unit)) throw new Error("not started: its file was not written");
          // A canceled start job (e.g. replaced by a concurrent job) is retried by the next
          // pass; a failed one is systemd's to report (Restart= decides), not fleet's to redo.
          const result = await systemd.startUnit(task.unit, START_WAIT_MS);
          if (result === "canceled") throw new Error("start job was canceled");
          if (result === "dependency" && options.fenced?.has(task.unit)) throw new Error("systemd refused the start: the at-most-once fence is not armed");
          if (result !== "done") log.info({ unit: task.unit, result }, "start job did not succeed");
          onStarted(task.unit);
          break;
        }
      }
      log.debug({ unit, task: task.kind, reason: task.reason }, "task done");
      results.push({ task });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (task.kind === "stop") failedStops.add(task.unit);
      if (task.kind === "write-file") failedWrites.add(task.unit);
      log.warn({ unit, task: task.kind, reason: task.reason, err: error }, "task failed");
      results.push({ task, error });
    }
  };

  const timings: Record<string, number> = {};
  const timed = async (phase: string, fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    timings[phase] = Math.round(performance.now() - t);
  };
  await timed("stops", () => Promise.all(stops.map(run)));
  await timed("removals", async () => {
    for (const task of removals) await run(task);
  });
  await timed("writes", () => Promise.all(writes.map(run)));
  await timed("links", () => linkAll(links));
  await timed("rest", async () => {
    for (const task of rest) await run(task);
  });
  await timed("starts", () => Promise.all(starts.map(run)));
  log.info({ tasks: tasks.length, failed: results.filter((r) => r.error).length, ms: timings }, "tasks applied");
  return results;

  async function linkAll(all: AgentTask[]): Promise<void> {
    const batch = all.filter((t) => !("unit" in t && failedWrites.has(t.unit)));
    for (const task of all) if (!batch.includes(task)) await run(task);
    if (batch.length === 0) return;
    try {
      await systemd.linkUnitFiles(batch.map((t) => files.pathOf("unit" in t ? t.unit : "")));
      for (const task of batch) results.push({ task });
    } catch {
      // One bad file fails the whole call: link one by one to find which.
      for (const task of batch) await run(task);
    }
  }
}

// Applies the agent's plan against systemd and the disk, phase after phase as planned (the plan
// orders them: planAgentTasks). Tasks are independent: one failure is logged and the rest of the
// pass goes on; only the tasks of a unit whose stop or file write failed are not attempted.
import type { AgentPlan, AgentTask } from "@fleet/domain";
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

export interface ExecuteHooks {
  /** Called as each start finishes, before the rest of the pass: its unit can be reported at once. */
  readonly onStarted?: StartedListener;
  /** Called once every phase before the starts ran (files written, linked and reloaded), with
   * the results so far: the units whose new files are in effect from now on. */
  readonly onFilesApplied?: (results: readonly TaskResult[]) => void;
}

/** Runs the plan's phases in order, each as the plan says (together, in order, in one call). */
export async function executePlan(
  plan: AgentPlan,
  systemd: UnitManager,
  files: UnitFiles,
  log: Logger,
  hooks: ExecuteHooks = {},
  options: ExecuteOptions = {},
): Promise<TaskResult[]> {
  const results: TaskResult[] = [];
  const failedStops = new Set<string>();
  /** Units whose file could not be written: not linked, enabled or started this pass. */
  const failedWrites = new Set<string>();

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
        case "reload-if-stale": {
          const stale = await systemd.needingReload(task.units);
          if (stale.length === 0) break;
          log.info({ units: stale }, "systemd holds older copies of unit files about to start: reloading first");
          await systemd.reload();
          break;
        }
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
          hooks.onStarted?.(task.unit);
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

  /** LinkUnitFiles for every new file at once; one bad file fails the call: then one by one. */
  const linkAll = async (all: readonly AgentTask[]): Promise<void> => {
    const batch = all.filter((t) => !("unit" in t && failedWrites.has(t.unit)));
    for (const task of all) if (!batch.includes(task)) await run(task);
    if (batch.length === 0) return;
    try {
      await systemd.linkUnitFiles(batch.map((t) => files.pathOf("unit" in t ? t.unit : "")));
      for (const task of batch) results.push({ task });
    } catch {
      for (const task of batch) await run(task);
    }
  };

  const timings: Record<string, number> = {};
  let applied = false;
  const filesApplied = () => {
    if (!applied) hooks.onFilesApplied?.(results);
    applied = true;
  };
  for (const phase of plan) {
    if (phase.name === "start") filesApplied();
    const t = performance.now();
    if (phase.run === "together") await Promise.all(phase.tasks.map(run));
    else if (phase.run === "one-call") await linkAll(phase.tasks);
    else for (const task of phase.tasks) await run(task);
    timings[phase.name] = Math.round(performance.now() - t);
  }
  filesApplied();
  log.info({ tasks: results.length, failed: results.filter((r) => r.error).length, ms: timings }, "tasks applied");
  return results;
}

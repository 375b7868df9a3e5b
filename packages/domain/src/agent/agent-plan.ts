// The agent's decision: a pure diff from what its machine should run to what it runs, as
// phases of tasks with reasons. An executor applies the phases in order against systemd.
//
//   desired (this machine's schedule)  ─┐
//                                       ├─> planAgentTasks ─> stop ─> remove ─> write ─> link
//   observed (unit files + systemd)    ─┘      ─> reload ─> configure ─> start
import type { TargetState } from "../types.js";
import { parseUnitName, unitNameError } from "../unit-name.js";

export interface DesiredUnit {
  readonly name: string;
  /** The unit file as it must be on disk. */
  readonly contents: string;
  readonly desiredState: "loaded" | "launched";
}

export interface ObservedUnit {
  readonly name: string;
  /** The file in the agent's units directory; undefined when there is none. */
  readonly contents: string | undefined;
  /** What the agent last brought the unit to (its fleet state on this machine). */
  readonly reached: TargetState;
  /** systemd's ActiveState ("" when systemd does not know the unit). */
  readonly activeState: string;
}

export type AgentTask =
  | { readonly kind: "stop"; readonly unit: string; readonly reason: string }
  | { readonly kind: "unlink"; readonly unit: string; readonly reason: string }
  | { readonly kind: "remove-file"; readonly unit: string; readonly reason: string }
  | { readonly kind: "write-file"; readonly unit: string; readonly contents: string; readonly reason: string }
  | { readonly kind: "link"; readonly unit: string; readonly reason: string }
  | { readonly kind: "enable"; readonly unit: string; readonly reason: string }
  | { readonly kind: "disable"; readonly unit: string; readonly reason: string }
  | { readonly kind: "daemon-reload"; readonly reason: string }
  /** Reloads only if systemd holds a stale copy of one of these units' files (its
   * NeedDaemonReload), e.g. an agent died between writing a file and reloading. */
  | { readonly kind: "reload-if-stale"; readonly units: readonly string[]; readonly reason: string }
  | { readonly kind: "reset-failed"; readonly unit: string; readonly reason: string }
  | { readonly kind: "start"; readonly unit: string; readonly reason: string };

const RUNNING = new Set(["active", "activating", "reloading", "deactivating"]);

/** A unit file with an [Install] section is enabled (at runtime) while it is loaded. */
export function hasInstallSection(contents: string): boolean {
  return /^[ \t]*\[Install\][ \t]*$/m.test(contents);
}

export function isRunning(activeState: string): boolean {
  return RUNNING.has(activeState);
}

/**
 * Why an agent cannot run a unit of this name, or undefined when it can. A template
 * (foo@.service) is a valid name to store but systemd refuses to load, start or even list it
 * ("Unit name foo@.service is missing the instance name."): the agent reports such a unit with
 * this reason instead of asking systemd, so that it never fails the units beside it.
 */
export function unrunnableUnitReason(name: string): string | undefined {
  const error = unitNameError(name);
  if (error) return `unit ${name} cannot run: ${error}`;
  if (parseUnitName(name).isTemplate) return `unit ${name} cannot run: it is a template (missing the instance name)`;
  return undefined;
}

/**
 * How the executor runs a phase's tasks: all at once (each waits for its own job), one after
 * another, or in one D-Bus call for the whole phase (LinkUnitFiles).
 */
export type PhaseRun = "together" | "in-order" | "one-call";

export type PhaseName = "stop" | "remove" | "write" | "link" | "reload" | "configure" | "start";

export interface AgentPhase {
  readonly name: PhaseName;
  readonly run: PhaseRun;
  readonly tasks: readonly AgentTask[];
}

/** The phases that have tasks, in the order they must run. */
export type AgentPlan = readonly AgentPhase[];

/** Every task of the plan, in order. */
export function planTasks(plan: AgentPlan): AgentTask[] {
  return plan.flatMap((p) => p.tasks);
}

/**
 * The phases, in the order they must run: stops, then the removed units' files go, new and
 * changed files are written and new ones linked, systemd reloads, units are enabled and reset,
 * and finally started. Idempotent: a converged machine gets no phase.
 */
export function planAgentTasks(desired: readonly DesiredUnit[], observed: readonly ObservedUnit[]): AgentPlan {
  const want = new Map(desired.map((d) => [d.name, d]));
  const have = new Map(observed.map((o) => [o.name, o]));
  const stops: AgentTask[] = [];
  const removals: AgentTask[] = [];
  const writes: AgentTask[] = [];
  const links: AgentTask[] = [];
  const resets: AgentTask[] = [];
  const enables: AgentTask[] = [];
  const starts: AgentTask[] = [];
  /** Units started from a file already on disk that this pass does not rewrite. */
  const startedAsFound: string[] = [];

  for (const o of [...observed].sort(byName)) {
    if (want.has(o.name)) continue;
    if (o.reached === "launched" || isRunning(o.activeState)) {
      stops.push({ kind: "stop", unit: o.name, reason: "unit is no longer scheduled here" });
    }
    if (o.contents !== undefined) {
      if (hasInstallSection(o.contents)) removals.push({ kind: "disable", unit: o.name, reason: "unit is no longer scheduled here" });
      removals.push({ kind: "unlink", unit: o.name, reason: "unit is no longer scheduled here" });
      removals.push({ kind: "remove-file", unit: o.name, reason: "unit is no longer scheduled here" });
    }
    if (o.activeState === "failed") resets.push({ kind: "reset-failed", unit: o.name, reason: "leftover failed unit" });
  }

  for (const d of [...desired].sort(byName)) {
    const o = have.get(d.name);
    const changed = o?.contents !== undefined && o.contents !== d.contents;
    const running = o !== undefined && (o.reached === "launched" || isRunning(o.activeState));
    if (running && (d.desiredState === "loaded" || changed)) {
      stops.push({ kind: "stop", unit: d.name, reason: changed ? "unit file changed" : "desired state is loaded" });
    }
    // The old file's [Install] links go with it (the new file's, if any, are made again below).
    if (changed && o?.contents !== undefined && hasInstallSection(o.contents)) {
      removals.push({ kind: "disable", unit: d.name, reason: "unit file changed" });
    }
    if (o?.contents === undefined) {
      writes.push({ kind: "write-file", unit: d.name, contents: d.contents, reason: "unit is scheduled here" });
      links.push({ kind: "link", unit: d.name, reason: "unit is scheduled here" });
    } else if (changed) {
      writes.push({ kind: "write-file", unit: d.name, contents: d.contents, reason: "unit file changed" });
    }
    if ((o?.contents === undefined || changed) && hasInstallSection(d.contents)) {
      enables.push({ kind: "enable", unit: d.name, reason: "unit has an [Install] section" });
    }
    if (d.desiredState === "launched" && (o?.reached !== "launched" || changed)) {
      starts.push({ kind: "start", unit: d.name, reason: "desired state is launched" });
      if (o?.contents !== undefined && !changed) startedAsFound.push(d.name);
    }
  }

  const phases: AgentPhase[] = [
    { name: "stop", run: "together", tasks: stops },
    { name: "remove", run: "in-order", tasks: removals },
    { name: "write", run: "together", tasks: writes },
    { name: "link", run: "one-call", tasks: links },
    { name: "reload", run: "in-order", tasks: reloadTasks(writes, removals, have, startedAsFound) },
    { name: "configure", run: "in-order", tasks: [...enables, ...resets] },
    { name: "start", run: "together", tasks: starts },
  ];
  return phases.filter((p) => p.tasks.length > 0);
}

/**
 * systemd loads a new unit file on demand (its unit path cache changed), so only rewritten or
 * removed files need a daemon-reload, which costs hundreds of milliseconds. A unit started from
 * a file found on disk may still be systemd's older copy (an agent that died between writing it
 * and reloading): systemd is asked about those, and reloads only if one is stale.
 */
function reloadTasks(writes: readonly AgentTask[], removals: readonly AgentTask[], have: ReadonlyMap<string, ObservedUnit>, startedAsFound: readonly string[]): AgentTask[] {
  const rewritten = writes.some((t) => t.kind === "write-file" && have.get(t.unit)?.contents !== undefined);
  if (removals.length > 0 || rewritten) return [{ kind: "daemon-reload", reason: "unit files changed" }];
  if (startedAsFound.length > 0) return [{ kind: "reload-if-stale", units: startedAsFound, reason: "units start from files systemd may hold an older copy of" }];
  return [];
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

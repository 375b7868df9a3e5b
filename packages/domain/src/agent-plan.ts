// The agent's decision: a pure diff from what its machine should run to what it runs, as an
// ordered list of tasks with reasons. An executor applies them against systemd.
//
//   desired (this machine's schedule)  ─┐
//                                       ├─> planAgentTasks ─> [stop, unlink, remove-file,
//   observed (unit files + systemd)    ─┘                      write-file, link, daemon-reload,
//                                                              enable, reset-failed, start]
import type { TargetState } from "./types.js";
import { parseUnitName, unitNameError } from "./unit-name.js";

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

/** The tasks, in the order they must run. Idempotent: a converged machine gets none. */
export function planAgentTasks(desired: readonly DesiredUnit[], observed: readonly ObservedUnit[]): AgentTask[] {
  const want = new Map(desired.map((d) => [d.name, d]));
  const have = new Map(observed.map((o) => [o.name, o]));
  const stops: AgentTask[] = [];
  const removals: AgentTask[] = [];
  const writes: AgentTask[] = [];
  const resets: AgentTask[] = [];
  const enables: AgentTask[] = [];
  const starts: AgentTask[] = [];

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
      writes.push({ kind: "link", unit: d.name, reason: "unit is scheduled here" });
    } else if (changed) {
      writes.push({ kind: "write-file", unit: d.name, contents: d.contents, reason: "unit file changed" });
    }
    if ((o?.contents === undefined || changed) && hasInstallSection(d.contents)) {
      enables.push({ kind: "enable", unit: d.name, reason: "unit has an [Install] section" });
    }
    if (d.desiredState === "launched" && (o?.reached !== "launched" || changed)) {
      starts.push({ kind: "start", unit: d.name, reason: "desired state is launched" });
    }
  }

  // systemd loads a new unit file on demand (its unit path cache changed), so only rewritten or
  // removed files need a daemon-reload, which costs hundreds of milliseconds.
  const rewritten = writes.some((t) => t.kind === "write-file" && have.get(t.unit)?.contents !== undefined);
  const reload: AgentTask[] = removals.length > 0 || rewritten ? [{ kind: "daemon-reload", reason: "unit files changed" }] : [];
  return [...stops, ...removals, ...writes, ...reload, ...enables, ...resets, ...starts];
}


function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

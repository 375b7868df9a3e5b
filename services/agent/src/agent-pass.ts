// One reconcile pass of the agent: observe -> plan -> execute.
//
//   observe  GetMachineSchedule (own machine only) -> desired; unit files on disk + systemd
//            (ListUnitsByNames) -> observed; the at-most-once fence says which units may start
//   plan     planAgentTasks(desired, observed) -> phases (pure, @fleet/domain)
//   execute  executePlan -> each unit's new state, reported by the publisher
//
// Each unit is handled on its own: one the agent cannot run (a template, a name systemd
// refuses, a file it cannot write, a D-Bus error for it) is reported with a reason and retried
// by the next pass, and the rest of the pass goes on. A pass that cannot read the schedule
// changes nothing: units keep running whatever the control plane does.
import {
  globalUnitsForMachine,
  isAtMostOnceUnit,
  isGlobalUnit,
  isRunning,
  planAgentTasks,
  planTasks,
  unrunnableUnitReason,
  type DesiredUnit,
  type Machine,
  type MonotonicClock,
  type ObservedUnit,
  type Unit,
} from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import type { AgentRegistry } from "./agent-registry.js";
import type { AgentUnits } from "./agent-units.js";
import { executePlan, type TaskResult } from "./executor.js";
import type { FenceGuard } from "./fence-guard.js";
import { isFencedUnitFile, unitFileOnMachine } from "./fence-units.js";
import type { StatePublisher } from "./state-publisher.js";
import type { UnitManager } from "./systemd.js";
import type { UnitFiles } from "./unit-files.js";
import type { UnitWatcher } from "./unit-watcher.js";

/** Why an AtMostOnce unit waits (the unit's state says so until it starts). */
export const FENCE_HOLD_REASON = "AtMostOnce: not started until the machine's lease is renewed (the at-most-once fence is not armed)";

export interface PassContext {
  readonly registry: AgentRegistry;
  readonly systemd: UnitManager;
  readonly files: UnitFiles;
  readonly log: Logger;
  readonly clock: MonotonicClock;
  readonly fence: FenceGuard;
  readonly units: AgentUnits;
  readonly watcher: UnitWatcher;
  readonly publisher: StatePublisher;
  machine(): Machine;
  /** Renews the lease now (arming the fence); a failure is the heartbeat loop's to retry. */
  renewNow(): Promise<void>;
}

export class AgentPass {
  /** This machine's AtMostOnce units (scheduled here, or their files still on disk). */
  fenced = new Set<string>();
  /** The fence had a gap (it fired, or was never armed): AtMostOnce units the agent counted
   * launched but that are not running are to be started again. */
  private fenceGap = true;

  constructor(private readonly c: PassContext) {}

  async run(trigger: string): Promise<void> {
    const { fence, units, watcher, publisher } = this.c;
    // Arm the fence before reading the schedule, so its AtMostOnce units can start this pass.
    if (fence.wanted && !fence.armed()) await this.c.renewNow();
    // Not armed (still): the fence may have fired; systemd says which units it stopped.
    if (!fence.armed()) this.fenceGap = true;
    const readAt = this.c.clock.now();
    const schedule = await this.c.registry.schedule(this.c.machine().id);
    const readMs = this.c.clock.now() - readAt;
    const desired: DesiredUnit[] = [];
    const refused = new Map<string, string>();
    const fenced = new Set<string>();
    const reasons = new Map<string, string>();
    /** The hash of each unit's file as it must be; recorded once that file is on disk and loaded. */
    const hashes = new Map<string, string>();
    for (const unit of this.unitsForThisMachine(schedule.units, schedule.machine ?? this.c.machine())) {
      if (unit.desiredState === "inactive") continue;
      const why = unrunnableUnitReason(unit.name);
      if (why) {
        refused.set(unit.name, unit.hash);
        reasons.set(unit.name, why);
        continue;
      }
      hashes.set(unit.name, unit.hash);
      if (isAtMostOnceUnit(unit.options)) fenced.add(unit.name);
      desired.push({ name: unit.name, contents: unitFileOnMachine(unit), desiredState: unit.desiredState });
    }
    units.setRefused(refused, publisher, this.c.log);
    const onDisk = await this.c.files.readAll();
    for (const [name, contents] of onDisk) if (isFencedUnitFile(contents)) fenced.add(name);
    // A file already as it must be: the unit runs with that hash now.
    for (const d of desired) if (onDisk.get(d.name) === d.contents) units.hashes.set(d.name, hashes.get(d.name) ?? "");
    this.fenced = fenced;
    fence.wanted = fenced.size > 0;
    const fenceReady = fenced.size === 0 || (await this.installFence(fenced, reasons));

    const names = [...new Set([...onDisk.keys(), ...units.reached.keys(), ...desired.map((d) => d.name)])];
    // Only units fleet already has, and systemd can be asked about: asking systemd about a new
    // name makes it load (and then garbage-collect) a unit that does not exist yet.
    const askable = names.filter((n) => !unrunnableUnitReason(n));
    const known = askable.filter((n) => onDisk.has(n) || units.reached.has(n));
    // Their signals from now on (before the read, so no change falls between the two).
    await watcher.watch(known);
    await watcher.read(known, reasons);
    // Adoption: a unit found on disk after a restart is loaded, or launched if systemd runs it.
    for (const name of onDisk.keys()) {
      if (!units.reached.has(name)) units.reached.set(name, isRunning(watcher.activeState(name)) ? "launched" : "loaded");
    }
    this.resetFencedAfterGap();
    this.holdFenced(desired, reasons, fenceReady && fence.mayStart(readAt));

    const observed: ObservedUnit[] = [];
    for (const name of names) {
      const reached = units.reached.get(name);
      if (reached !== undefined) observed.push({ name, contents: onDisk.get(name), reached, activeState: watcher.activeState(name) });
    }
    const plan = planAgentTasks(desired, observed);
    // New AtMostOnce units here, or an agent that just started: arm the fence now rather than
    // at the next heartbeat (a pass follows, see Agent's renewed), before systemd's fence fires.
    if (fence.wanted && !fence.armed()) void this.c.renewNow();
    if (plan.length === 0) {
      // Nothing to do, but what systemd says may not be in the registry yet (an adopted unit
      // after a restart): the publisher sends whatever differs from what was last reported.
      await watcher.unwatch(names.filter((n) => !units.reached.has(n)));
      units.setReasons(names, reasons);
      publisher.changedAll(units.names());
      return;
    }
    const tasks = planTasks(plan);
    // How long reading the schedule, and observing the machine after it, took: where a slow pass spent its time.
    this.c.log.info({ trigger, tasks: tasks.length, ms: { schedule: Math.round(readMs), observe: Math.round(this.c.clock.now() - readAt - readMs) } }, "applying tasks");
    // New units are reported from now on (a batch of starts takes a while), with their files'
    // hashes once written. Their signals are asked for when their start job ends (unit-watcher.ts).
    for (const d of desired) if (!units.reached.has(d.name)) units.reached.set(d.name, "inactive");
    const startsEnd = watcher.startsBegin(tasks.flatMap((t) => (t.kind === "start" ? [t.unit] : [])));
    await watcher.watch(askable.filter((n) => !watcher.isStarting(n) && !watcher.isWatched(n)));
    const results = await executePlan(
      plan,
      this.c.systemd,
      this.c.files,
      this.c.log,
      {
        onStarted: (unit) => {
          if (units.reached.has(unit)) units.reached.set(unit, "launched");
          watcher.started(unit);
        },
        onFilesApplied: (done) => this.recordHashes(hashes, done),
      },
      { fenced },
    ).finally(startsEnd);
    await watcher.settled();
    const failed = new Set<string>();
    for (const r of results) {
      if (!r.error || !("unit" in r.task)) continue;
      failed.add(r.task.unit);
      if (!reasons.has(r.task.unit)) reasons.set(r.task.unit, `${r.task.kind} failed: ${r.error}`);
    }
    const wanted = new Map(desired.map((d) => [d.name, d]));
    for (const name of names) {
      if (failed.has(name)) continue;
      const d = wanted.get(name);
      if (d) units.reached.set(name, d.desiredState);
      else units.forget(name, publisher);
    }
    await watcher.unwatch(names.filter((n) => !units.reached.has(n)));
    await watcher.read([...units.reached.keys()].filter((n) => !unrunnableUnitReason(n)), reasons);
    units.setReasons(names, reasons);
    publisher.changedAll(units.names());
  }

  /**
   * The units' new files are in effect (written, linked, reloaded): from now on their states
   * carry the new hash. A unit whose file could not be written or linked, or was rewritten
   * without a reload, keeps the hash it had.
   */
  private recordHashes(hashes: ReadonlyMap<string, string>, results: readonly TaskResult[]): void {
    const notApplied = new Set<string>();
    const reloadFailed = results.some((r) => r.error !== undefined && r.task.kind === "daemon-reload");
    for (const { task, error } of results) {
      if (task.kind !== "write-file" && task.kind !== "link") continue;
      if (error !== undefined || (reloadFailed && task.kind === "write-file")) notApplied.add(task.unit);
    }
    for (const { task } of results) {
      if (task.kind === "write-file" && !notApplied.has(task.unit)) this.c.units.hashes.set(task.unit, hashes.get(task.unit) ?? "");
    }
  }

  /** An AtMostOnce unit starts only while the fence is armed, and has been since before the
   * schedule was read; one the agent already runs is left to the fence (systemd stops it). */
  private holdFenced(desired: DesiredUnit[], reasons: Map<string, string>, mayStart: boolean): void {
    for (const [i, d] of desired.entries()) {
      if (!this.fenced.has(d.name) || d.desiredState !== "launched" || mayStart || this.c.units.reached.get(d.name) === "launched") continue;
      desired[i] = { ...d, desiredState: "loaded" };
      if (!reasons.has(d.name)) reasons.set(d.name, FENCE_HOLD_REASON);
    }
  }

  private async installFence(fenced: ReadonlySet<string>, reasons: Map<string, string>): Promise<boolean> {
    try {
      await this.c.fence.install();
      return true;
    } catch (err) {
      const why = `AtMostOnce: the at-most-once fence cannot be installed: ${(err as Error).message}`;
      this.c.log.error({ err: (err as Error).message, units: fenced.size }, "at-most-once fence not installed: no AtMostOnce unit starts");
      for (const name of fenced) reasons.set(name, why);
      return false;
    }
  }

  /** After a gap in the fence, AtMostOnce units counted launched but not running were stopped
   * by it (or exited meanwhile): counted loaded, so that the pass starts them once it may. */
  private resetFencedAfterGap(): void {
    if (!this.fenceGap) return;
    const { reached } = this.c.units;
    for (const name of this.fenced) {
      if (reached.get(name) === "launched" && !isRunning(this.c.watcher.activeState(name))) reached.set(name, "loaded");
    }
    if (this.c.fence.armed()) this.fenceGap = false;
  }

  /** The fence was re-armed after a gap (Agent's renewed): the next pass looks at what it stopped. */
  fenceRearmed(): void {
    this.fenceGap = true;
  }

  /** The placed units, and the global units this machine qualifies for (the agent decides those). */
  private unitsForThisMachine(all: readonly Unit[], machine: Machine): Unit[] {
    const placed = all.filter((u) => !isGlobalUnit(u.options));
    const globals = globalUnitsForMachine(
      all.filter((u) => isGlobalUnit(u.options)),
      machine,
      placed,
    );
    for (const g of globals) {
      if (g.eligible !== true) this.c.log.debug({ unit: g.unit.name, reason: g.eligible }, "global unit not for this machine");
    }
    return [...placed, ...globals.filter((g) => g.eligible === true).map((g) => g.unit)];
  }
}

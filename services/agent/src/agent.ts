// The agent's reconcile pass and its state reports:
//
//   hint / timer -> GetMachineSchedule (own machine only) -> desired
//                   unit files + systemd (ListUnitsByNames) -> observed
//                   planAgentTasks(desired, observed) -> executeTasks -> report states
//   systemd PropertiesChanged signals -> batched ReportUnitStates
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
  unitNameError,
  unrunnableUnitReason,
  type DesiredUnit,
  type Machine,
  type ObservedUnit,
  type TargetState,
  type Unit,
  type UnitState,
} from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import { executeTasks } from "./executor.js";
import { FenceGuard } from "./fence-guard.js";
import { isFencedUnitFile, unitFileOnMachine } from "./fence-units.js";
import { MachineLease, type LeaseRegistry } from "./machine-lease.js";
import type { SystemdUnitStatus, UnitManager } from "./systemd.js";
import type { UnitFiles } from "./unit-files.js";
import { unitObjectPath } from "./unit-path.js";

export interface AgentRegistry extends LeaseRegistry {
  /** Units placed on the machine plus every global unit, and the machine as the scheduler sees it. */
  schedule(machineId: string): Promise<{ units: Unit[]; machine?: Machine }>;
  report(machineId: string, leaseId: string, states: UnitState[], removed: string[]): Promise<void>;
}

export interface AgentOptions {
  /** Monotonic milliseconds (performance.now by default): the fence's clock. */
  readonly now?: () => number;
  /** Asks for a reconcile pass soon (the loop's trigger), e.g. once the fence is armed again. */
  readonly requestPass?: (why: string) => void;
  /** This agent's instance id for this boot of the machine (instance-id.ts): the registry tells
   * a restarted agent from another machine with the same machine id by it. */
  readonly instance?: string;
  /** The registry refused the registration (another machine holds the id), or no longer does. */
  readonly onRefused?: (reason: string | undefined) => void;
}

/** What leaving the cluster did (leave()). */
export interface LeaveResult {
  /** Units stopped and unloaded. */
  readonly units: number;
  /** Units that could not be unloaded (their stop or removal failed, also when retried). */
  readonly failed: readonly string[];
  /** Whether the machine's registration was removed (false: it held none, or another agent's). */
  readonly unregistered: boolean;
}

/** Why an AtMostOnce unit waits (the unit's state says so until it starts). */
export const FENCE_HOLD_REASON = "AtMostOnce: not started until the machine's lease is renewed (the at-most-once fence is not armed)";

/** How long state changes gather before one report: a burst of signals becomes one write. */
const REPORT_DELAY_MS = 5;
/** The same while the unit's start job runs: its end reports at once (a slow start still shows
 * its progress, e.g. activating, after this long). */
const STARTING_REPORT_DELAY_MS = 100;
/** A new unit whose start job runs this long is watched (and its state read) before it ends. */
const SLOW_START_MS = 1000;

export class Agent {
  private readonly lease: MachineLease;
  private readonly fence: FenceGuard;
  private readonly now: () => number;
  /** What the agent brought each of its units to. */
  private readonly reached = new Map<string, TargetState>();
  private readonly hashes = new Map<string, string>();
  private readonly status = new Map<string, SystemdUnitStatus>();
  private readonly pathToName = new Map<string, string>();
  private readonly dirty = new Set<string>();
  /** What the registry holds for each unit, as last reported: unchanged states are not resent. */
  private readonly reported = new Map<string, string>();
  private readonly removed = new Set<string>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private flushDue = 0;
  /** Units whose start job is running: their intermediate states wait for its end (onStarted),
   * so that "launched" is not queued behind a report of "activating". */
  private readonly starting = new Set<string>();
  private flushing: Promise<void> = Promise.resolve();
  /** Units whose start just ended, waiting for settle(). */
  private readonly justStarted = new Set<string>();
  private settling: Promise<void> = Promise.resolve();
  /** Why each unit is not where it should be, as last reported ("" or absent: nothing). */
  private readonly reasons = new Map<string, string>();
  /** Units scheduled here that the agent cannot run, with their hash: reported, never run. */
  private refused = new Map<string, string>();
  /** This machine's AtMostOnce units (scheduled here, or their files still on disk). */
  private fenced = new Set<string>();
  /** The fence had a gap (it fired, or was never armed): AtMostOnce units the agent counted
   * launched but that are not running are to be started again. */
  private fenceGap = true;
  /** unloadAll removed unit files: systemd reloads once the machine is out of the cluster. */
  private reloadAfterLeaving = false;

  constructor(
    private machine: Machine,
    ttlSeconds: number,
    private readonly registry: AgentRegistry,
    private readonly systemd: UnitManager,
    private readonly files: UnitFiles,
    private readonly log: Logger,
    private readonly options: AgentOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.fence = new FenceGuard(systemd, files.runtimeDir, ttlSeconds, this.now, log);
    this.lease = new MachineLease(machine, ttlSeconds, registry, log, this.now, {
      registered: () => {
        // A new lease holds no states yet: report every unit again.
        this.reported.clear();
        this.markAllDirty();
      },
      renewed: async (r) => {
        if (!(await this.fence.onRenewal(r))) return;
        this.fenceGap = true;
        if (this.fenced.size > 0) this.options.requestPass?.("at-most-once fence armed");
      },
      refused: (reason) => this.options.onRefused?.(reason),
    }, options.instance);
    systemd.onUnitChange((path, changed) => this.onUnitChange(path, changed));
  }

  /** Registrations made by this agent (one in flight at a time). */
  get registrations(): number {
    return this.lease.registrations;
  }

  /** Why the registry refuses this machine's registration (another machine holds its id), while it does. */
  get refusedBecause(): string | undefined {
    return this.lease.refusedBecause;
  }

  /** The lease held now, if any. */
  get leaseId(): string | undefined {
    return this.lease.id;
  }

  /** The machine's registration changed (SIGHUP: metadata, public IP): registers it again. */
  async updateMachine(machine: Machine): Promise<void> {
    this.machine = machine;
    await this.lease.update(machine);
    this.options.requestPass?.("machine changed");
  }

  /**
   * Leaves the cluster, as fleetd 1.0 did on SIGTERM: stops and unloads every unit this agent
   * runs (its files in units_dir; a failed one is tried again, twice, a second apart), disarms
   * the at-most-once fence, and only then removes the machine's registration, so that the
   * engine moves the units elsewhere once they have stopped here (never running twice). The
   * reconcile loop must be stopped first; the heartbeats must go on meanwhile (the lease must
   * not lapse while units are stopping) and stop before `release` is called.
   */
  async unloadAll(): Promise<Omit<LeaveResult, "unregistered">> {
    await this.settling;
    let failed: string[] = [];
    let units = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 1000));
      const onDisk = await this.files.readAll();
      const names = [...new Set([...onDisk.keys(), ...this.reached.keys()])].filter((n) => !unrunnableUnitReason(n));
      if (attempt === 0) units = names.length;
      await this.readStatuses(names, new Map());
      const observed: ObservedUnit[] = names.map((name) => ({
        name,
        contents: onDisk.get(name),
        reached: this.reached.get(name) ?? "loaded",
        activeState: this.status.get(name)?.activeState ?? "",
      }));
      // systemd's daemon-reload waits until the machine is out of the cluster (afterLeaving):
      // the units are stopped and their files gone, and a reload takes 0.4-2 s on a busy machine.
      const planned = planAgentTasks([], observed);
      const tasks = planned.filter((t) => t.kind !== "daemon-reload");
      if (tasks.length < planned.length) this.reloadAfterLeaving = true;
      if (tasks.length === 0) {
        failed = [];
        break;
      }
      this.log.info({ units: names.length, tasks: tasks.length, attempt }, "leaving the cluster: stopping and unloading units");
      const results = await executeTasks(tasks, this.systemd, this.files, this.log, () => {}, { fenced: this.fenced });
      const failedNow = new Set(results.flatMap((r) => (r.error && "unit" in r.task ? [r.task.unit] : [])));
      for (const name of names) {
        if (failedNow.has(name)) continue;
        this.reached.delete(name);
        this.status.delete(name);
        this.removed.add(name);
      }
      failed = [...failedNow].sort();
      if (failed.length === 0) break;
    }
    await this.untrack([...this.pathToName.values()]);
    // No AtMostOnce unit is left here: the fence's timer would only fire later for nothing.
    this.fence.wanted = false;
    await this.fence.disarm();
    return { units, failed };
  }

  /** Removes the machine's registration (see unloadAll, which comes first). */
  async release(): Promise<boolean> {
    return this.lease.release();
  }

  /** After leaving: systemd reloads, so that it forgets the unit files unloadAll removed. */
  async afterLeaving(): Promise<void> {
    if (!this.reloadAfterLeaving) return;
    this.reloadAfterLeaving = false;
    await this.systemd.reload().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, "daemon-reload after leaving failed"));
  }

  /** Registers the machine unless it holds a lease (joining a registration in flight). */
  async register(): Promise<void> {
    await this.lease.ensure();
  }

  /**
   * Renews the lease (one heartbeat in flight; joins it) and re-arms the at-most-once fence.
   * Registers again only when the registry says the lease is gone; a failed call throws and
   * registers nothing (the heartbeat loop retries with backoff).
   */
  heartbeat(): Promise<void> {
    return this.lease.heartbeat();
  }

  async reconcile(trigger: string): Promise<void> {
    await this.lease.ensure();
    // Arm the fence before reading the schedule, so its AtMostOnce units can start this pass.
    if (this.fence.wanted && !this.fence.armed()) await this.renewNow();
    // Not armed (still): the fence may have fired; systemd says which units it stopped.
    if (!this.fence.armed()) this.fenceGap = true;
    const readAt = this.now();
    const schedule = await this.registry.schedule(this.machine.id);
    const desired: DesiredUnit[] = [];
    const refused = new Map<string, string>();
    const fenced = new Set<string>();
    const reasons = new Map<string, string>();
    for (const unit of this.unitsForThisMachine(schedule.units, schedule.machine ?? this.machine)) {
      if (unit.desiredState === "inactive") continue;
      const why = unrunnableUnitReason(unit.name);
      if (why) {
        refused.set(unit.name, unit.hash);
        reasons.set(unit.name, why);
        continue;
      }
      this.hashes.set(unit.name, unit.hash);
      if (isAtMostOnceUnit(unit.options)) fenced.add(unit.name);
      desired.push({ name: unit.name, contents: unitFileOnMachine(unit), desiredState: unit.desiredState });
    }
    this.setRefused(refused);
    const onDisk = await this.files.readAll();
    for (const [name, contents] of onDisk) if (isFencedUnitFile(contents)) fenced.add(name);
    this.fenced = fenced;
    this.fence.wanted = fenced.size > 0;
    const fenceReady = fenced.size === 0 || (await this.installFence(fenced, reasons));

    const names = [...new Set([...onDisk.keys(), ...this.reached.keys(), ...desired.map((d) => d.name)])];
    // Only units fleet already has, and systemd can be asked about: asking systemd about a new
    // name makes it load (and then garbage-collect) a unit that does not exist yet.
    const askable = names.filter((n) => !unrunnableUnitReason(n));
    const known = askable.filter((n) => onDisk.has(n) || this.reached.has(n));
    // Their signals from now on (before the read, so no change falls between the two).
    await this.track(known);
    await this.readStatuses(known, reasons);
    // Adoption: a unit found on disk after a restart is loaded, or launched if systemd runs it.
    for (const name of onDisk.keys()) {
      if (!this.reached.has(name)) this.reached.set(name, isRunning(this.status.get(name)?.activeState ?? "") ? "launched" : "loaded");
    }
    this.resetFencedAfterGap();

    // An AtMostOnce unit starts only while the fence is armed, and has been since before the
    // schedule was read; one the agent already runs is left to the fence (systemd stops it).
    const mayStartFenced = fenceReady && this.fence.mayStart(readAt);
    for (const [i, d] of desired.entries()) {
      if (!fenced.has(d.name) || d.desiredState !== "launched" || mayStartFenced || this.reached.get(d.name) === "launched") continue;
      desired[i] = { ...d, desiredState: "loaded" };
      if (!reasons.has(d.name)) reasons.set(d.name, FENCE_HOLD_REASON);
    }

    const observed: ObservedUnit[] = [];
    for (const name of names) {
      const reached = this.reached.get(name);
      if (reached === undefined) continue;
      observed.push({ name, contents: onDisk.get(name), reached, activeState: this.status.get(name)?.activeState ?? "" });
    }

    const tasks = planAgentTasks(desired, observed);
    // New AtMostOnce units here, or an agent that just started: arm the fence now rather than
    // at the next heartbeat (a pass follows, see renewed), before systemd's fence fires.
    if (this.fence.wanted && !this.fence.armed()) this.renewSoon();
    if (tasks.length === 0) {
      // Nothing to do, but what systemd says may not be in the registry yet (an adopted unit
      // after a restart): flush sends whatever differs from what was last reported.
      await this.untrack(names.filter((n) => !this.reached.has(n)));
      this.setReasons(names, reasons);
      this.markAllDirty();
      return;
    }
    this.log.info({ trigger, tasks: tasks.length }, "applying tasks");
    // New units are reported from now on (a batch of starts takes a while). Their signals are
    // asked for when their start job ends, or after SLOW_START_MS: while it runs, systemd sends
    // several PropertiesChanged per unit that the agent would only parse to report "activating".
    for (const d of desired) if (!this.reached.has(d.name)) this.reached.set(d.name, "inactive");
    for (const t of tasks) if (t.kind === "start") this.starting.add(t.unit);
    const unwatched = new Set(names.filter((n) => !this.pathToName.has(unitObjectPath(n))));
    await this.track(askable.filter((n) => !this.starting.has(n) && unwatched.has(n)));
    const slow = setTimeout(() => this.settle([...this.starting].filter((n) => unwatched.has(n)), false), SLOW_START_MS);
    const results = await executeTasks(tasks, this.systemd, this.files, this.log, (unit) => this.onStarted(unit), { fenced }).finally(() => {
      clearTimeout(slow);
      this.starting.clear();
    });
    await this.settling;
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
      if (d) this.reached.set(name, d.desiredState);
      else if (this.reached.delete(name)) {
        this.status.delete(name);
        this.dirty.delete(name);
        // A unit refused here keeps its state (with the reason); others' go.
        if (!this.refused.has(name)) {
          this.hashes.delete(name);
          this.removed.add(name);
        }
      }
    }
    await this.untrack(names.filter((n) => !this.reached.has(n)));
    await this.readStatuses([...this.reached.keys()].filter((n) => !unrunnableUnitReason(n)), reasons);
    this.setReasons(names, reasons);
    this.markAllDirty();
  }

  /** Renews the lease now (arming the fence); a failure is the heartbeat loop's to retry. */
  private async renewNow(): Promise<void> {
    await this.lease.heartbeat().catch((err: unknown) => this.log.debug({ err: (err as Error).message }, "renewal before the pass failed"));
  }

  /** Renews the lease soon, without waiting: the fence arms and asks for a pass. */
  private renewSoon(): void {
    void this.renewNow();
  }

  private async installFence(fenced: ReadonlySet<string>, reasons: Map<string, string>): Promise<boolean> {
    try {
      await this.fence.install();
      return true;
    } catch (err) {
      const why = `AtMostOnce: the at-most-once fence cannot be installed: ${(err as Error).message}`;
      this.log.error({ err: (err as Error).message, units: fenced.size }, "at-most-once fence not installed: no AtMostOnce unit starts");
      for (const name of fenced) reasons.set(name, why);
      return false;
    }
  }

  /** After a gap in the fence, AtMostOnce units counted launched but not running were stopped
   * by it (or exited meanwhile): counted loaded, so that the pass starts them once it may. */
  private resetFencedAfterGap(): void {
    if (!this.fenceGap) return;
    for (const name of this.fenced) {
      if (this.reached.get(name) === "launched" && !isRunning(this.status.get(name)?.activeState ?? "")) this.reached.set(name, "loaded");
    }
    if (this.fence.armed()) this.fenceGap = false;
  }

  /**
   * Reads the units' states from systemd. A unit systemd refuses to report fails only itself:
   * one bad name fails ListUnitsByNames for all, so the names are then read one by one.
   */
  private async readStatuses(names: readonly string[], reasons: Map<string, string>): Promise<void> {
    if (names.length === 0) return;
    try {
      for (const s of await this.systemd.listUnitsByNames(names)) this.status.set(s.name, s);
    } catch (err) {
      if (names.length > 1) {
        await Promise.all(names.map((n) => this.readStatuses([n], reasons)));
        return;
      }
      const name = names[0] ?? "";
      this.log.warn({ unit: name, err: (err as Error).message }, "systemd did not report the unit's state");
      reasons.set(name, `systemd did not report its state: ${(err as Error).message}`);
    }
  }

  /** The units scheduled here that cannot run; those no longer scheduled lose their state. */
  private setRefused(refused: Map<string, string>): void {
    for (const name of this.refused.keys()) {
      if (refused.has(name) || this.reached.has(name)) continue;
      this.reasons.delete(name);
      this.hashes.delete(name);
      this.removed.add(name);
    }
    for (const [name, hash] of refused) {
      if (!this.refused.has(name)) this.log.warn({ unit: name, reason: unrunnableUnitReason(name) }, "unit scheduled here cannot run");
      this.hashes.set(name, hash);
      this.removed.delete(name);
    }
    this.refused = refused;
  }

  /** This pass's reasons replace the last ones of its units. */
  private setReasons(names: readonly string[], reasons: ReadonlyMap<string, string>): void {
    for (const name of [...names, ...this.refused.keys()]) {
      const why = reasons.get(name);
      if (why) this.reasons.set(name, why);
      else this.reasons.delete(name);
    }
  }

  private markAllDirty(): void {
    for (const name of this.reached.keys()) this.dirty.add(name);
    for (const name of this.refused.keys()) this.dirty.add(name);
    this.scheduleFlush();
  }

  /** The placed units, and the global units this machine qualifies for (the agent decides those). */
  private unitsForThisMachine(units: readonly Unit[], machine: Machine): Unit[] {
    const placed = units.filter((u) => !isGlobalUnit(u.options));
    const globals = globalUnitsForMachine(
      units.filter((u) => isGlobalUnit(u.options)),
      machine,
      placed,
    );
    for (const g of globals) {
      if (g.eligible !== true) this.log.debug({ unit: g.unit.name, reason: g.eligible }, "global unit not for this machine");
    }
    return [...placed, ...globals.filter((g) => g.eligible === true).map((g) => g.unit)];
  }

  /** Maps the units' object paths to names and asks systemd's bus for their signals. */
  private async track(names: readonly string[]): Promise<void> {
    for (const name of names) this.pathToName.set(unitObjectPath(name), name);
    // Without a rule a unit's changes are seen by the next pass's read: not worth failing it.
    await this.systemd.watchUnits(names).catch((err: unknown) => this.log.warn({ err: (err as Error).message, units: names.length }, "asking for units' signals failed"));
  }

  private async untrack(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    for (const name of names) this.pathToName.delete(unitObjectPath(name));
    await this.systemd.unwatchUnits(names).catch((err: unknown) => this.log.warn({ err: (err as Error).message, units: names.length }, "removing units' match rules failed"));
  }

  private onUnitChange(path: string, changed: Partial<Record<"LoadState" | "ActiveState" | "SubState", string>>): void {
    const name = this.pathToName.get(path);
    if (!name || !this.reached.has(name)) return;
    const before = this.status.get(name) ?? { name, loadState: "", activeState: "", subState: "" };
    this.status.set(name, {
      name,
      loadState: changed.LoadState ?? before.loadState,
      activeState: changed.ActiveState ?? before.activeState,
      subState: changed.SubState ?? before.subState,
    });
    this.dirty.add(name);
    this.scheduleFlush(this.starting.has(name) ? STARTING_REPORT_DELAY_MS : REPORT_DELAY_MS);
  }

  /** A start job finished: the unit is launched now, not when the whole pass is done. */
  private onStarted(name: string): void {
    this.starting.delete(name);
    if (!this.reached.has(name)) return;
    this.reached.set(name, "launched");
    if (this.pathToName.has(unitObjectPath(name))) {
      this.dirty.add(name);
      this.scheduleFlush(0);
      return;
    }
    // Not watched yet: ask for its signals and read its state, together with the other units
    // whose starts end meanwhile.
    this.justStarted.add(name);
    if (this.justStarted.size === 1) queueMicrotask(() => this.settle([...this.justStarted.keys()], true));
  }

  /**
   * Asks for the units' signals, then reads their states (in that order: a change after the
   * read is signalled) and reports them (at once when their start just ended).
   */
  private settle(names: readonly string[], started: boolean): void {
    if (started) this.justStarted.clear();
    if (names.length === 0) return;
    this.settling = this.settling
      .then(async () => {
        await this.track(names);
        for (const s of await this.systemd.listUnitsByNames(names)) if (this.reached.has(s.name)) this.status.set(s.name, s);
        for (const n of names) this.dirty.add(n);
        this.scheduleFlush(started ? 0 : REPORT_DELAY_MS);
      })
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message, units: names.length }, "reading started units' states failed; the pass reads them"));
  }

  /** Flushes after `delayMs` (the changes meanwhile join the same report); the earliest wins. */
  private scheduleFlush(delayMs = REPORT_DELAY_MS): void {
    const due = performance.now() + delayMs;
    if (this.flushTimer && this.flushDue <= due) return;
    clearTimeout(this.flushTimer);
    this.flushDue = due;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, delayMs);
  }

  /** What the registry should hold for the unit: systemd's states and what the agent reached,
   * or, for a unit it cannot run, inactive with the reason. */
  private stateOf(name: string): UnitState | undefined {
    const reason = this.reasons.get(name);
    const common = { name, hash: this.hashes.get(name) ?? "", machineId: this.machine.id, ...(reason ? { reason } : {}) };
    const reached = this.reached.get(name);
    if (!reached) return this.refused.has(name) ? { ...common, loadState: "error", activeState: "inactive", subState: "dead", currentState: "inactive" } : undefined;
    const s = this.status.get(name);
    return { ...common, loadState: s?.loadState ?? "", activeState: s?.activeState ?? "", subState: s?.subState ?? "", currentState: reached };
  }

  /** Sends the batched state changes; on failure keeps them for the next flush. */
  private async flush(): Promise<void> {
    const leaseId = this.lease.id;
    if (!leaseId || (this.dirty.size === 0 && this.removed.size === 0)) return;
    const states: UnitState[] = [];
    for (const name of this.dirty) {
      // The registry refuses a report that names an invalid unit: such a unit is only logged.
      if (unitNameError(name)) continue;
      const state = this.stateOf(name);
      if (!state) continue;
      const key = JSON.stringify(state);
      if (this.reported.get(name) === key) continue;
      this.reported.set(name, key);
      states.push(state);
    }
    const removed = [...this.removed];
    for (const r of removed) this.reported.delete(r);
    if (states.length === 0 && removed.length === 0) {
      this.dirty.clear();
      return;
    }
    this.dirty.clear();
    this.removed.clear();
    try {
      await this.registry.report(this.machine.id, leaseId, states, removed);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "state report failed; will retry");
      for (const s of states) {
        this.reported.delete(s.name);
        this.dirty.add(s.name);
      }
      for (const r of removed) this.removed.add(r);
      setTimeout(() => this.scheduleFlush(), 1000);
    }
  }
}

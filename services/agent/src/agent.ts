// The agent's reconcile pass and its state reports:
//
//   hint / timer -> GetMachineSchedule (own machine only) -> desired
//                   unit files + systemd (ListUnitsByNames) -> observed
//                   planAgentTasks(desired, observed) -> executeTasks -> report states
//   systemd PropertiesChanged signals -> batched ReportUnitStates
import { globalUnitsForMachine, isGlobalUnit, planAgentTasks, serializeUnitFile, isRunning, type DesiredUnit, type ObservedUnit, type TargetState, type Unit, type UnitState, type Machine } from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import { executeTasks } from "./executor.js";
import type { SystemdUnitStatus, UnitManager } from "./systemd.js";
import type { UnitFiles } from "./unit-files.js";
import { unitObjectPath } from "./unit-path.js";

export interface AgentRegistry {
  register(machine: Machine, ttlSeconds: number): Promise<string>;
  heartbeat(machineId: string, leaseId: string): Promise<boolean>;
  /** Units placed on the machine plus every global unit, and the machine as the scheduler sees it. */
  schedule(machineId: string): Promise<{ units: Unit[]; machine?: Machine }>;
  report(machineId: string, leaseId: string, states: UnitState[], removed: string[]): Promise<void>;
}

/** How long state changes gather before one report: a burst of signals becomes one write. */
const REPORT_DELAY_MS = 5;
/** The same while the unit's start job runs: its end reports at once (a slow start still shows
 * its progress, e.g. activating, after this long). */
const STARTING_REPORT_DELAY_MS = 100;
/** A new unit whose start job runs this long is watched (and its state read) before it ends. */
const SLOW_START_MS = 1000;

export class Agent {
  private leaseId: string | undefined;
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

  constructor(
    private readonly machine: Machine,
    private readonly ttlSeconds: number,
    private readonly registry: AgentRegistry,
    private readonly systemd: UnitManager,
    private readonly files: UnitFiles,
    private readonly log: Logger,
  ) {
    systemd.onUnitChange((path, changed) => this.onUnitChange(path, changed));
  }


  async register(): Promise<void> {
    this.leaseId = await this.registry.register(this.machine, this.ttlSeconds);
    // A new lease holds no states yet: report every unit again.
    this.reported.clear();
    for (const name of this.reached.keys()) this.dirty.add(name);
    this.log.info({ leaseId: this.leaseId }, "machine registered");
  }

  /** Keeps the registration alive; re-registers when the lease is gone. */
  async heartbeat(): Promise<void> {
    if (!this.leaseId) return this.register();
    const alive = await this.registry.heartbeat(this.machine.id, this.leaseId);
    if (!alive) {
      this.log.warn("registration lapsed; registering again");
      this.leaseId = undefined;
      await this.register();
      this.scheduleFlush();
    }
  }

  async reconcile(trigger: string): Promise<void> {
    if (!this.leaseId) await this.register();
    const schedule = await this.registry.schedule(this.machine.id);
    const desired: DesiredUnit[] = [];
    for (const unit of this.unitsForThisMachine(schedule.units, schedule.machine ?? this.machine)) {
      if (unit.desiredState === "inactive") continue;
      this.hashes.set(unit.name, unit.hash);
      desired.push({ name: unit.name, contents: serializeUnitFile(unit.options), desiredState: unit.desiredState });
    }
    const onDisk = await this.files.readAll();
    const names = [...new Set([...onDisk.keys(), ...this.reached.keys(), ...desired.map((d) => d.name)])];
    // Only units fleet already has: asking systemd about a new name makes it load (and then
    // garbage-collect) a unit that does not exist yet.
    const known = names.filter((n) => onDisk.has(n) || this.reached.has(n));
    // Their signals from now on (before the read, so no change falls between the two).
    await this.track(known);
    for (const s of await this.systemd.listUnitsByNames(known)) this.status.set(s.name, s);

    const observed: ObservedUnit[] = [];
    for (const name of names) {
      const contents = onDisk.get(name);
      const activeState = this.status.get(name)?.activeState ?? "";
      if (contents === undefined && !this.reached.has(name)) continue;
      // Adoption: a unit found on disk after a restart is loaded, or launched if systemd runs it.
      const reached = this.reached.get(name) ?? (isRunning(activeState) ? "launched" : "loaded");
      this.reached.set(name, reached);
      observed.push({ name, contents, reached, activeState });
    }

    const tasks = planAgentTasks(desired, observed);
    if (tasks.length === 0) {
      // Nothing to do, but what systemd says may not be in the registry yet (an adopted unit
      // after a restart): flush sends whatever differs from what was last reported.
      await this.untrack(names.filter((n) => !this.reached.has(n)));
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
    await this.track(names.filter((n) => !this.starting.has(n) && unwatched.has(n)));
    const slow = setTimeout(() => this.settle([...this.starting].filter((n) => unwatched.has(n)), false), SLOW_START_MS);
    const results = await executeTasks(tasks, this.systemd, this.files, this.log, (unit) => this.onStarted(unit)).finally(() => {
      clearTimeout(slow);
      this.starting.clear();
    });
    await this.settling;
    const failed = new Set(results.filter((r) => r.error && "unit" in r.task).map((r) => ("unit" in r.task ? r.task.unit : "")));
    const wanted = new Map(desired.map((d) => [d.name, d]));
    for (const name of names) {
      if (failed.has(name)) continue;
      const d = wanted.get(name);
      if (d) this.reached.set(name, d.desiredState);
      else if (this.reached.delete(name)) {
        this.status.delete(name);
        this.hashes.delete(name);
        this.removed.add(name);
        this.dirty.delete(name);
      }
    }
    await this.untrack(names.filter((n) => !this.reached.has(n)));
    for (const s of await this.systemd.listUnitsByNames([...this.reached.keys()])) this.status.set(s.name, s);
    this.markAllDirty();
  }

  private markAllDirty(): void {
    for (const name of this.reached.keys()) this.dirty.add(name);
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
    await this.systemd.watchUnits(names);
  }

  private async untrack(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    for (const name of names) this.pathToName.delete(unitObjectPath(name));
    await this.systemd.unwatchUnits(names);
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

  /** Sends the batched state changes; on failure keeps them for the next flush. */
  private async flush(): Promise<void> {
    if (!this.leaseId || (this.dirty.size === 0 && this.removed.size === 0)) return;
    const states: UnitState[] = [];
    for (const name of this.dirty) {
      const s = this.status.get(name);
      const reached = this.reached.get(name);
      if (!reached) continue;
      const state: UnitState = {
        name,
        hash: this.hashes.get(name) ?? "",
        machineId: this.machine.id,
        loadState: s?.loadState ?? "",
        activeState: s?.activeState ?? "",
        subState: s?.subState ?? "",
        currentState: reached,
      };
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
      await this.registry.report(this.machine.id, this.leaseId, states, removed);
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


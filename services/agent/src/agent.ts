// The agent: the machine's lease, and its units made to match the schedule. Assembled from
//
//   MachineLease   registration and heartbeats (machine-lease.ts)
//   FenceGuard     the at-most-once fence, re-armed after each prompt renewal (fence-guard.ts)
//   AgentPass      one reconcile pass: observe -> plan -> execute (agent-pass.ts)
//   UnitWatcher    systemd's state of our units, kept from its signals (unit-watcher.ts)
//   StatePublisher unit states to the registry, batched, resent on change (state-publisher.ts)
//   AgentUnits     what the agent knows of its units and reports for each (agent-units.ts)
//
// and leaving the cluster (unloadAll, release, afterLeaving) as fleetd did on SIGTERM.
import { planAgentTasks, planTasks, sleep, systemMonotonicClock, unrunnableUnitReason, type Machine, type MonotonicClock, type ObservedUnit } from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import { AgentPass } from "./agent-pass.js";
import type { AgentRegistry } from "./agent-registry.js";
import { AgentUnits } from "./agent-units.js";
import { executePlan } from "./executor.js";
import { FenceGuard } from "./fence-guard.js";
import { MachineLease } from "./machine-lease.js";
import { StatePublisher } from "./state-publisher.js";
import type { UnitManager } from "./systemd.js";
import type { UnitFiles } from "./unit-files.js";
import { UnitWatcher } from "./unit-watcher.js";

export type { AgentRegistry } from "./agent-registry.js";
export { FENCE_HOLD_REASON } from "./agent-pass.js";

export interface AgentOptions {
  /** The agent's clock: the fence's and the lease's time, start jobs' timers (default: the system's). */
  readonly clock?: MonotonicClock;
  /** The state publisher's clock, for its batching (default: the agent's clock). */
  readonly reportClock?: MonotonicClock;
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

/** A unit that fails to unload is tried again, this many times in all, this far apart. */
const UNLOAD_ATTEMPTS = 3;
const UNLOAD_RETRY_MS = 1000;

export class Agent {
  private readonly lease: MachineLease;
  private readonly fence: FenceGuard;
  private readonly clock: MonotonicClock;
  private readonly units: AgentUnits;
  private readonly watcher: UnitWatcher;
  private readonly publisher: StatePublisher;
  private readonly pass: AgentPass;
  /** unloadAll removed unit files: systemd reloads once the machine is out of the cluster. */
  private reloadAfterLeaving = false;

  constructor(
    private machine: Machine,
    ttlSeconds: number,
    registry: AgentRegistry,
    private readonly systemd: UnitManager,
    private readonly files: UnitFiles,
    private readonly log: Logger,
    private readonly options: AgentOptions = {},
  ) {
    const clock = (this.clock = options.clock ?? systemMonotonicClock);
    const now = () => clock.now();
    this.fence = new FenceGuard(systemd, files.runtimeDir, ttlSeconds, now, log);
    this.watcher = new UnitWatcher(systemd, { isOurs: (name) => this.units.reached.has(name), changed: (name, urgency) => this.publisher.changed(name, urgency) }, clock, log);
    this.units = new AgentUnits(() => this.machine.id, this.watcher);
    this.publisher = new StatePublisher(
      { leaseId: () => this.lease.id, stateOf: (name) => this.units.stateOf(name) },
      (leaseId, states, removed) => registry.report(this.machine.id, leaseId, states, removed),
      options.reportClock ?? clock,
      log,
    );
    this.lease = new MachineLease(machine, ttlSeconds, registry, log, now, {
      registered: () => {
        // A new lease holds no states yet: report every unit again.
        this.publisher.resendAll();
        this.publisher.changedAll(this.units.names());
      },
      renewed: async (r) => {
        if (!(await this.fence.onRenewal(r))) return;
        this.pass.fenceRearmed();
        if (this.pass.fenced.size > 0) this.options.requestPass?.("at-most-once fence armed");
      },
      refused: (reason) => this.options.onRefused?.(reason),
    }, options.instance);
    this.pass = new AgentPass({
      registry,
      systemd,
      files,
      log,
      clock,
      fence: this.fence,
      units: this.units,
      watcher: this.watcher,
      publisher: this.publisher,
      machine: () => this.machine,
      renewNow: () => this.renewNow(),
    });
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

  /** One reconcile pass (agent-pass.ts); none runs without a lease. */
  async reconcile(trigger: string): Promise<void> {
    await this.lease.ensure();
    await this.pass.run(trigger);
  }

  /** Resolves once the state reports already due are sent (tests). */
  async reported(): Promise<void> {
    await this.watcher.settled();
    await this.publisher.idle();
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
    await this.watcher.settled();
    const { reached } = this.units;
    let failed: string[] = [];
    let units = 0;
    for (let attempt = 0; attempt < UNLOAD_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(this.clock, UNLOAD_RETRY_MS);
      const onDisk = await this.files.readAll();
      const names = [...new Set([...onDisk.keys(), ...reached.keys()])].filter((n) => !unrunnableUnitReason(n));
      if (attempt === 0) units = names.length;
      await this.watcher.read(names, new Map());
      const observed: ObservedUnit[] = names.map((name) => ({ name, contents: onDisk.get(name), reached: reached.get(name) ?? "loaded", activeState: this.watcher.activeState(name) }));
      // systemd's daemon-reload waits until the machine is out of the cluster (afterLeaving):
      // the units are stopped and their files gone, and a reload takes 0.4-2 s on a busy machine.
      const planned = planAgentTasks([], observed);
      const plan = planned.filter((p) => p.name !== "reload");
      if (plan.length < planned.length) this.reloadAfterLeaving = true;
      if (plan.length === 0) {
        failed = [];
        break;
      }
      this.log.info({ units: names.length, tasks: planTasks(plan).length, attempt }, "leaving the cluster: stopping and unloading units");
      const results = await executePlan(plan, this.systemd, this.files, this.log, {}, { fenced: this.pass.fenced });
      const failedNow = new Set(results.flatMap((r) => (r.error && "unit" in r.task ? [r.task.unit] : [])));
      for (const name of names) {
        if (failedNow.has(name)) continue;
        reached.delete(name);
        this.watcher.forget(name);
        this.publisher.removed(name);
      }
      failed = [...failedNow].sort();
      if (failed.length === 0) break;
    }
    await this.watcher.unwatch(this.watcher.watched());
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

  /** Renews the lease now (arming the fence); a failure is the heartbeat loop's to retry. */
  private async renewNow(): Promise<void> {
    await this.lease.heartbeat().catch((err: unknown) => this.log.debug({ err: (err as Error).message }, "renewal before the pass failed"));
  }
}

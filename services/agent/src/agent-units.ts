// What the agent knows of its units between passes, and the state it reports for each: the
// fleet state it brought the unit to, the hash of the unit file the unit runs with, why it is
// not where it should be, and the units scheduled here that it cannot run.
import { unrunnableUnitReason, type TargetState, type UnitState } from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import type { StatePublisher } from "./state-publisher.js";
import type { UnitWatcher } from "./unit-watcher.js";

export class AgentUnits {
  /** What the agent brought each of its units to. */
  readonly reached = new Map<string, TargetState>();
  /** The hash of each unit's file as written on the machine (and loaded by systemd). */
  readonly hashes = new Map<string, string>();
  /** Why each unit is not where it should be, as last reported (absent: nothing). */
  private readonly reasons = new Map<string, string>();
  /** Units scheduled here that the agent cannot run, with their hash: reported, never run. */
  private refused = new Map<string, string>();

  constructor(
    private readonly machineId: () => string,
    private readonly watcher: UnitWatcher,
  ) {}

  isRefused(name: string): boolean {
    return this.refused.has(name);
  }

  /** Every unit whose state the agent reports. */
  names(): string[] {
    return [...this.reached.keys(), ...this.refused.keys()];
  }

  /** What the registry should hold for the unit: systemd's states and what the agent reached,
   * or, for a unit it cannot run, inactive with the reason. */
  stateOf(name: string): UnitState | undefined {
    const reason = this.reasons.get(name);
    const common = { name, hash: this.hashes.get(name) ?? "", machineId: this.machineId(), ...(reason ? { reason } : {}) };
    const reached = this.reached.get(name);
    if (!reached) return this.refused.has(name) ? { ...common, loadState: "error", activeState: "inactive", subState: "dead", currentState: "inactive" } : undefined;
    const s = this.watcher.status(name);
    return { ...common, loadState: s?.loadState ?? "", activeState: s?.activeState ?? "", subState: s?.subState ?? "", currentState: reached };
  }

  /** The units scheduled here that cannot run; those no longer scheduled lose their state. */
  setRefused(refused: Map<string, string>, publisher: StatePublisher, log: Logger): void {
    for (const name of this.refused.keys()) {
      if (refused.has(name) || this.reached.has(name)) continue;
      this.reasons.delete(name);
      this.hashes.delete(name);
      publisher.removed(name);
    }
    for (const [name, hash] of refused) {
      if (!this.refused.has(name)) log.warn({ unit: name, reason: unrunnableUnitReason(name) }, "unit scheduled here cannot run");
      this.hashes.set(name, hash);
      publisher.kept(name);
    }
    this.refused = refused;
  }

  /** This pass's reasons replace the last ones of its units. */
  setReasons(names: readonly string[], reasons: ReadonlyMap<string, string>): void {
    for (const name of [...names, ...this.refused.keys()]) {
      const why = reasons.get(name);
      if (why) this.reasons.set(name, why);
      else this.reasons.delete(name);
    }
  }

  /** The unit is no longer the agent's (its state goes, unless it is refused here). */
  forget(name: string, publisher: StatePublisher): void {
    if (!this.reached.delete(name)) return;
    this.watcher.forget(name);
    if (this.refused.has(name)) return;
    this.hashes.delete(name);
    publisher.removed(name);
  }
}

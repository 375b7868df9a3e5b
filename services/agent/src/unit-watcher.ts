// What systemd says about the agent's units, kept current from its D-Bus signals:
//
//   watch(names) -> AddMatch per unit (systemd.ts) ─┐
//   read(names)  -> ListUnitsByNames               ├─> status(name) ─> onChange(name, urgency)
//   PropertiesChanged (LoadState/ActiveState/SubState)┘
//
// While a unit's start job runs (JobRemoved ends it: executor.ts's onStarted), systemd sends
// several PropertiesChanged that would only report "activating": a new unit is watched once its
// start ends (watched and read together with the others ending meanwhile), or after
// SLOW_START_MS, so that a slow start still shows its progress.
import type { Clock } from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import type { SystemdUnitStatus, UnitManager } from "./systemd.js";
import { unitObjectPath } from "./unit-path.js";

/** A new unit whose start job runs this long is watched (and its state read) before it ends. */
export const SLOW_START_MS = 1000;

/** How soon a change is to be reported: a start that ended at once, a unit starting (its end
 * comes soon and is what matters), anything else gathered in a short batch. */
export type Urgency = "now" | "starting" | "batch";

export interface WatcherEvents {
  /** Whether the unit is still the agent's (signals for others are dropped). */
  isOurs(name: string): boolean;
  /** systemd's state of one of our units changed (or was read after its start). */
  changed(name: string, urgency: Urgency): void;
}

export class UnitWatcher {
  private readonly pathToName = new Map<string, string>();
  private readonly statuses = new Map<string, SystemdUnitStatus>();
  /** Units whose start job runs. */
  private readonly starting = new Set<string>();
  /** Units whose start just ended and that are not watched yet: watched and read together. */
  private readonly justStarted = new Set<string>();
  private settling: Promise<void> = Promise.resolve();

  constructor(
    private readonly systemd: UnitManager,
    private readonly events: WatcherEvents,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    systemd.onUnitChange((path, changed) => this.onUnitChange(path, changed));
  }

  status(name: string): SystemdUnitStatus | undefined {
    return this.statuses.get(name);
  }

  /** systemd's ActiveState of the unit as last seen ("" when unknown). */
  activeState(name: string): string {
    return this.statuses.get(name)?.activeState ?? "";
  }

  isWatched(name: string): boolean {
    return this.pathToName.has(unitObjectPath(name));
  }

  /** Every unit watched now. */
  watched(): string[] {
    return [...this.pathToName.values()];
  }

  forget(name: string): void {
    this.statuses.delete(name);
  }

  /** Maps the units' object paths to names and asks systemd's bus for their signals. */
  async watch(names: readonly string[]): Promise<void> {
    for (const name of names) this.pathToName.set(unitObjectPath(name), name);
    // Without a rule a unit's changes are seen by the next pass's read: not worth failing it.
    await this.systemd.watchUnits(names).catch((err: unknown) => this.log.warn({ err: (err as Error).message, units: names.length }, "asking for units' signals failed"));
  }

  async unwatch(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    for (const name of names) this.pathToName.delete(unitObjectPath(name));
    await this.systemd.unwatchUnits(names).catch((err: unknown) => this.log.warn({ err: (err as Error).message, units: names.length }, "removing units' match rules failed"));
  }

  /**
   * Reads the units' states from systemd. A unit systemd refuses to report fails only itself
   * (its reason is set): one bad name fails ListUnitsByNames for all, so the names are then
   * read one by one.
   */
  async read(names: readonly string[], reasons: Map<string, string>): Promise<void> {
    if (names.length === 0) return;
    try {
      for (const s of await this.systemd.listUnitsByNames(names)) this.statuses.set(s.name, s);
    } catch (err) {
      if (names.length > 1) {
        await Promise.all(names.map((n) => this.read([n], reasons)));
        return;
      }
      const name = names[0] ?? "";
      this.log.warn({ unit: name, err: (err as Error).message }, "systemd did not report the unit's state");
      reasons.set(name, `systemd did not report its state: ${(err as Error).message}`);
    }
  }

  /**
   * The pass starts these units (their start jobs run until `started`, or until the returned
   * function ends them all): those not watched yet are watched after SLOW_START_MS if their start
   * has not ended by then.
   */
  startsBegin(units: readonly string[]): () => void {
    for (const u of units) this.starting.add(u);
    const unwatched = units.filter((u) => !this.isWatched(u));
    const slow = this.clock.setTimeout(() => this.settle(unwatched.filter((n) => this.starting.has(n)), false), SLOW_START_MS);
    return () => {
      this.clock.clearTimeout(slow);
      this.starting.clear();
    };
  }

  isStarting(name: string): boolean {
    return this.starting.has(name);
  }

  /** A start job ended: the unit is reported at once (watched and read first if it is not watched). */
  started(name: string): void {
    this.starting.delete(name);
    if (!this.events.isOurs(name)) return;
    if (this.isWatched(name)) {
      this.events.changed(name, "now");
      return;
    }
    this.justStarted.add(name);
    if (this.justStarted.size === 1) queueMicrotask(() => this.settle([...this.justStarted], true));
  }

  /** Resolves once the started units' reads are done. */
  settled(): Promise<void> {
    return this.settling;
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
        await this.watch(names);
        for (const s of await this.systemd.listUnitsByNames(names)) if (this.events.isOurs(s.name)) this.statuses.set(s.name, s);
        for (const n of names) this.events.changed(n, started ? "now" : "batch");
      })
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message, units: names.length }, "reading started units' states failed; the pass reads them"));
  }

  private onUnitChange(path: string, changed: Partial<Record<"LoadState" | "ActiveState" | "SubState", string>>): void {
    const name = this.pathToName.get(path);
    if (!name || !this.events.isOurs(name)) return;
    const before = this.statuses.get(name) ?? { name, loadState: "", activeState: "", subState: "" };
    this.statuses.set(name, {
      name,
      loadState: changed.LoadState ?? before.loadState,
      activeState: changed.ActiveState ?? before.activeState,
      subState: changed.SubState ?? before.subState,
    });
    this.events.changed(name, this.starting.has(name) ? "starting" : "batch");
  }
}

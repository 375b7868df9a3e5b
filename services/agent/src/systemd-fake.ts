// An in-memory UnitManager for tests of the agent: units start and stop at once, and changes
// are signalled to listeners as systemd's PropertiesChanged would be.
import type { SystemdUnitStatus, UnitManager } from "./systemd.js";
import { unitObjectPath } from "./unit-path.js";

type Listener = Parameters<UnitManager["onUnitChange"]>[0];

export class FakeUnitManager implements UnitManager {
  /** Units systemd knows (linked or running). */
  readonly units = new Map<string, SystemdUnitStatus>();
  readonly enabled = new Set<string>();
  /** Every call, in order, e.g. "start a.service". */
  readonly calls: string[] = [];
  /** Unit names whose start fails the way a unit with a bad ExecStart does. */
  readonly failing = new Set<string>();
  /** Units whose start job takes this long (ms), activating meanwhile, like a Type=notify service. */
  readonly startDelays = new Map<string, number>();
  /** Units whose signals were asked for (watchUnits); only those are signalled. */
  readonly watched = new Set<string>();
  private readonly listeners: Listener[] = [];

  async listUnitsByNames(names: readonly string[]): Promise<SystemdUnitStatus[]> {
    return names.map((name) => this.units.get(name) ?? { name, loadState: "not-found", activeState: "inactive", subState: "dead" });
  }

  async linkUnitFiles(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      this.calls.push(`link ${name}`);
      if (!this.units.has(name)) this.units.set(name, { name, loadState: "loaded", activeState: "inactive", subState: "dead" });
    }
  }

  async reload(): Promise<void> {
    this.calls.push("daemon-reload");
  }

  async enableUnitFiles(names: readonly string[]): Promise<void> {
    for (const n of names) {
      this.calls.push(`enable ${n}`);
      this.enabled.add(n);
    }
  }

  async disableUnitFiles(names: readonly string[]): Promise<void> {
    for (const n of names) {
      this.calls.push(`disable ${n}`);
      this.enabled.delete(n);
    }
  }

  async startUnit(name: string): Promise<string> {
    this.calls.push(`start ${name}`);
    if (!this.units.has(name)) throw new Error(`Unit ${name} not found.`);
    if (this.failing.has(name)) {
      this.set(name, "failed", "failed");
      return "failed";
    }
    const delay = this.startDelays.get(name);
    if (delay !== undefined) {
      this.set(name, "activating", "start");
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    this.set(name, "active", "running");
    return "done";
  }

  async stopUnit(name: string): Promise<void> {
    this.calls.push(`stop ${name}`);
    if (this.units.has(name)) this.set(name, "inactive", "dead");
  }

  async resetFailedUnit(name: string): Promise<void> {
    this.calls.push(`reset-failed ${name}`);
  }

  async watchUnits(names: readonly string[]): Promise<void> {
    for (const n of names) this.watched.add(n);
  }

  async unwatchUnits(names: readonly string[]): Promise<void> {
    for (const n of names) this.watched.delete(n);
  }

  onUnitChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  close(): void {}

  /** Changes a unit's state as systemd would on its own (e.g. the process exited). */
  set(name: string, activeState: string, subState: string): void {
    const before = this.units.get(name) ?? { name, loadState: "loaded", activeState: "inactive", subState: "dead" };
    this.units.set(name, { ...before, activeState, subState });
    if (!this.watched.has(name)) return;
    for (const l of this.listeners) l(unitObjectPath(name), { ActiveState: activeState, SubState: subState });
  }
}

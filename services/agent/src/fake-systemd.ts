// An in-memory UnitManager for tests of the agent: units start and stop at once, and changes
// are signalled to listeners as systemd's PropertiesChanged would be. Like systemd it refuses
// template names ("Unit name foo@.service is missing the instance name."), reads the unit files
// it links and those in its runtime directory, and honours the few directives fleet's
// at-most-once fence relies on: a timer's OnActiveSec= (on the fake's clock, checked at every
// call and at tick()), a service's Conflicts=, and a unit's PartOf= and Requisite=.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseUnitName, systemClock, type Clock } from "@fleet/domain";
import type { SystemdUnitStatus, UnitManager } from "./systemd.js";
import { unitObjectPath } from "./unit-path.js";

type Listener = Parameters<UnitManager["onUnitChange"]>[0];

export interface FakeUnitManagerOptions {
  /** systemd's runtime unit directory, where it finds units that are not linked (the fence's). */
  readonly runtimeDir?: string;
  /** Its monotonic clock (ms). */
  readonly now?: () => number;
  /** The timers slow starts wait on (startDelays). */
  readonly clock?: Clock;
}

/** The directives of a unit file the fake acts on. */
interface Directives {
  readonly partOf: string[];
  readonly requisite: string[];
  readonly conflicts: string[];
  readonly onActiveMs: number | undefined;
  readonly triggers: string | undefined;
}

function directives(text: string): Directives {
  const values = (key: string) =>
    text
      .split("\n")
      .filter((l) => l.startsWith(`${key}=`))
      .flatMap((l) => l.slice(key.length + 1).split(/\s+/).filter(Boolean));
  const onActive = values("OnActiveSec")[0];
  return {
    partOf: values("PartOf"),
    requisite: values("Requisite"),
    conflicts: values("Conflicts"),
    onActiveMs: onActive === undefined ? undefined : onActive.endsWith("ms") ? Number(onActive.slice(0, -2)) : Number(onActive) * 1000,
    triggers: values("Unit")[0],
  };
}

export class FakeUnitManager implements UnitManager {
  /** Units systemd knows (linked or running). */
  readonly units = new Map<string, SystemdUnitStatus>();
  readonly enabled = new Set<string>();
  /** Every call, in order, e.g. "start a.service". */
  readonly calls: string[] = [];
  /** Unit names whose start fails the way a unit with a bad ExecStart does. */
  readonly failing = new Set<string>();
  /** Unit names whose every call fails with this D-Bus error (a unit systemd cannot handle). */
  readonly broken = new Map<string, string>();
  /** Units whose start job takes this long (ms), activating meanwhile, like a Type=notify service. */
  readonly startDelays = new Map<string, number>();
  /** Units whose signals were asked for (watchUnits); only those are signalled. */
  readonly watched = new Set<string>();
  /** Runs at each recorded call before it acts (e.g. to look at what the agent reported meanwhile). */
  delay: (call: string) => Promise<void> | void = () => {};
  private readonly listeners: Listener[] = [];
  private readonly files = new Map<string, Directives>();
  /** Each unit's file as systemd loaded it (at link, daemon-reload or on demand). */
  private readonly loadedText = new Map<string, string>();
  /** Where each unit's file is, re-read on daemon-reload. */
  private readonly paths = new Map<string, string>();
  /** Armed timers: name -> when they elapse. */
  private readonly timers = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly o: FakeUnitManagerOptions = {}) {
    this.now = o.now ?? (() => performance.now());
    this.clock = o.clock ?? systemClock;
  }

  private readonly clock: Clock;

  private async record(call: string): Promise<void> {
    this.calls.push(call);
    await this.delay(call);
  }

  /** The unit's file as systemd loaded it (undefined: never loaded). */
  loaded(name: string): string | undefined {
    return this.loadedText.get(name);
  }

  private readFile(name: string, path: string): void {
    const text = readFileSync(path, "utf8");
    this.loadedText.set(name, text);
    this.files.set(name, directives(text));
  }

  async needingReload(names: readonly string[]): Promise<string[]> {
    return names.filter((name) => {
      const path = this.paths.get(name);
      return path !== undefined && existsSync(path) && readFileSync(path, "utf8") !== this.loadedText.get(name);
    });
  }

  async listUnitsByNames(names: readonly string[]): Promise<SystemdUnitStatus[]> {
    this.tick();
    for (const name of names) this.refuse(name);
    return names.map((name) => this.units.get(name) ?? { name, loadState: "not-found", activeState: "inactive", subState: "dead" });
  }

  async linkUnitFiles(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      await this.record(`link ${name}`);
      if (path.startsWith("/") && !existsSync(path)) throw new Error(`File ${path} does not exist.`);
      this.paths.set(name, path);
      if (existsSync(path)) this.readFile(name, path);
      if (!this.units.has(name)) this.units.set(name, { name, loadState: "loaded", activeState: "inactive", subState: "dead" });
    }
  }

  async reload(): Promise<void> {
    await this.record("daemon-reload");
    this.files.clear();
    this.loadedText.clear();
    for (const [name, path] of this.paths) if (existsSync(path)) this.readFile(name, path);
  }

  async enableUnitFiles(names: readonly string[]): Promise<void> {
    for (const n of names) {
      await this.record(`enable ${n}`);
      this.enabled.add(n);
    }
  }

  async disableUnitFiles(names: readonly string[]): Promise<void> {
    for (const n of names) {
      await this.record(`disable ${n}`);
      this.enabled.delete(n);
    }
  }

  async startUnit(name: string): Promise<string> {
    await this.record(`start ${name}`);
    return this.start(name);
  }

  private async start(name: string): Promise<string> {
    this.tick();
    this.refuse(name);
    this.load(name);
    if (!this.units.has(name)) throw new Error(`Unit ${name} not found.`);
    if (this.isActive(name)) return "done";
    for (const r of this.files.get(name)?.requisite ?? []) if (!this.isActive(r)) return "dependency";
    if (this.failing.has(name)) {
      this.set(name, "failed", "failed");
      return "failed";
    }
    const delay = this.startDelays.get(name);
    if (delay !== undefined) {
      this.set(name, "activating", "start");
      await new Promise((resolve) => this.clock.setTimeout(() => resolve(undefined), delay));
    }
    this.set(name, "active", "running");
    for (const c of this.files.get(name)?.conflicts ?? []) this.stopNow(c);
    const onActive = this.files.get(name)?.onActiveMs;
    if (onActive !== undefined) this.timers.set(name, this.now() + onActive);
    return "done";
  }

  async restartUnit(name: string): Promise<string> {
    this.tick();
    await this.record(`restart ${name}`);
    this.refuse(name);
    this.load(name);
    if (!this.units.has(name)) throw new Error(`Unit ${name} not found.`);
    this.stopNow(name);
    return this.start(name);
  }

  async stopUnit(name: string): Promise<void> {
    this.tick();
    await this.record(`stop ${name}`);
    this.refuse(name);
    this.stopNow(name);
  }

  async resetFailedUnit(name: string): Promise<void> {
    await this.record(`reset-failed ${name}`);
    this.refuse(name);
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

  /** Lets elapsed timers fire, as systemd does on its own whatever the agent does. */
  tick(): void {
    const now = this.now();
    for (const [timer, at] of [...this.timers]) {
      if (at > now) continue;
      this.timers.delete(timer);
      this.set(timer, "inactive", "dead");
      const service = this.files.get(timer)?.triggers ?? timer.replace(/\.timer$/, ".service");
      this.load(service);
      for (const c of this.files.get(service)?.conflicts ?? []) this.stopNow(c);
    }
  }

  /** Changes a unit's state as systemd would on its own (e.g. the process exited). */
  set(name: string, activeState: string, subState: string): void {
    const before = this.units.get(name) ?? { name, loadState: "loaded", activeState: "inactive", subState: "dead" };
    this.units.set(name, { ...before, activeState, subState });
    if (!this.watched.has(name)) return;
    for (const l of this.listeners) l(unitObjectPath(name), { ActiveState: activeState, SubState: subState });
  }

  isActive(name: string): boolean {
    const s = this.units.get(name)?.activeState;
    return s === "active" || s === "activating";
  }

  /** Stops the unit and, as systemd propagates a stop, the units that are PartOf= it. */
  private stopNow(name: string): void {
    this.timers.delete(name);
    if (this.units.has(name) && this.units.get(name)?.activeState !== "inactive") this.set(name, "inactive", "dead");
    for (const [unit, d] of this.files) if (d.partOf.includes(name) && this.isActive(unit)) this.stopNow(unit);
  }

  /** A unit file in the runtime directory that was not linked (systemd loads it on demand). */
  private load(name: string): void {
    if (this.files.has(name) || !this.o.runtimeDir) return;
    const path = join(this.o.runtimeDir, name);
    if (!existsSync(path)) return;
    this.paths.set(name, path);
    this.readFile(name, path);
    if (!this.units.has(name)) this.units.set(name, { name, loadState: "loaded", activeState: "inactive", subState: "dead" });
  }

  /** systemd's own refusals: a template cannot be listed, started or stopped. */
  private refuse(name: string): void {
    const broken = this.broken.get(name);
    if (broken) throw new Error(broken);
    if (parseUnitName(name).isTemplate) throw new Error(`Unit name ${name} is missing the instance name.`);
  }
}

// The agent's edge to systemd: manager calls over the system bus (dbus-next, raw messages, no
// introspection) and the signals systemd sends about our units.
import dbus from "dbus-next";
import { UNIT_PATH_PREFIX } from "./unit-path.js";

const DEST = "org.freedesktop.systemd1";
const PATH = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
const UNIT_IFACE = "org.freedesktop.systemd1.Unit";

export interface SystemdUnitStatus {
  readonly name: string;
  readonly loadState: string;
  readonly activeState: string;
  readonly subState: string;
}

/** What the agent needs from systemd; the real one is below, a fake one lives in systemd-fake.ts. */
export interface UnitManager {
  listUnitsByNames(names: readonly string[]): Promise<SystemdUnitStatus[]>;
  /** Links unit files into systemd's runtime unit path, all in one call. */
  linkUnitFiles(paths: readonly string[]): Promise<void>;
  reload(): Promise<void>;
  /** Enables units at runtime (their [Install] section), by name. */
  enableUnitFiles(names: readonly string[]): Promise<void>;
  disableUnitFiles(names: readonly string[]): Promise<void>;
  /** Starts the unit; resolves with the start job's result ("done", "failed", "canceled", ...,
   * or "pending" if it did not finish within timeoutMs). */
  startUnit(name: string, timeoutMs: number): Promise<string>;
  /** Stops the unit and resolves once the stop job finished. "No such unit" counts as stopped. */
  stopUnit(name: string, timeoutMs: number): Promise<void>;
  resetFailedUnit(name: string): Promise<void>;
  /** Called with the unit's object path and its changed Unit properties. */
  onUnitChange(listener: (path: string, changed: Partial<Record<"LoadState" | "ActiveState" | "SubState", string>>) => void): void;
  close(): void;
}

type Body = unknown[];

export class DbusUnitManager implements UnitManager {
  private readonly jobWaiters = new Map<string, (result: string) => void>();
  /** Jobs that finished before anyone waited for them (the reply and the signal can race). */
  private readonly finishedJobs = new Map<string, string>();
  private readonly listeners: Array<Parameters<UnitManager["onUnitChange"]>[0]> = [];

  private constructor(private readonly bus: dbus.MessageBus) {
    bus.on("message", (msg) => this.onMessage(msg));
  }

  static async connect(): Promise<DbusUnitManager> {
    const bus = dbus.systemBus();
    const manager = new DbusUnitManager(bus);
    await manager.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [
      `type='signal',sender='${DEST}',interface='${MANAGER}',member='JobRemoved'`,
    ]);
    await manager.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [
      `type='signal',sender='${DEST}',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',path_namespace='${PATH}/unit'`,
    ]);
    await manager.managerCall("Subscribe", "", []);
    return manager;
  }

  private async call(destination: string, path: string, iface: string, member: string, signature: string, body: Body): Promise<Body> {
    const reply = await this.bus.call(new dbus.Message({ destination, path, interface: iface, member, signature, body }));
    return reply?.body ?? [];
  }

  private managerCall(member: string, signature: string, body: Body): Promise<Body> {
    return this.call(DEST, PATH, MANAGER, member, signature, body);
  }

  private onMessage(msg: dbus.Message): void {
    if (msg.type !== dbus.MessageType.SIGNAL) return;
    if (msg.interface === MANAGER && msg.member === "JobRemoved") {
      const [, jobPath, , result] = msg.body as [number, string, string, string];
      const waiter = this.jobWaiters.get(jobPath);
      if (waiter) {
        this.jobWaiters.delete(jobPath);
        waiter(result);
      } else {
        this.finishedJobs.set(jobPath, result);
        if (this.finishedJobs.size > 1000) this.finishedJobs.clear();
      }
      return;
    }
    if (msg.member === "PropertiesChanged" && msg.path.startsWith(UNIT_PATH_PREFIX)) {
      const [iface, changed] = msg.body as [string, Record<string, dbus.Variant<string>>];
      if (iface !== UNIT_IFACE) return;
      const out: Partial<Record<"LoadState" | "ActiveState" | "SubState", string>> = {};
      for (const k of ["LoadState", "ActiveState", "SubState"] as const) {
        const v = changed[k];
        if (v && typeof v.value === "string") out[k] = v.value;
      }
      if (Object.keys(out).length > 0) for (const l of this.listeners) l(msg.path, out);
    }
  }

  async listUnitsByNames(names: readonly string[]): Promise<SystemdUnitStatus[]> {
    if (names.length === 0) return [];
    const [rows] = (await this.managerCall("ListUnitsByNames", "as", [[...names]])) as [Array<[string, string, string, string, string]>];
    return (rows ?? []).map(([name, , loadState, activeState, subState]) => ({ name, loadState, activeState, subState }));
  }

  async linkUnitFiles(paths: readonly string[]): Promise<void> {
    if (paths.length > 0) await this.managerCall("LinkUnitFiles", "asbb", [[...paths], true, true]);
  }

  async enableUnitFiles(names: readonly string[]): Promise<void> {
    if (names.length > 0) await this.managerCall("EnableUnitFiles", "asbb", [[...names], true, true]);
  }

  async disableUnitFiles(names: readonly string[]): Promise<void> {
    if (names.length > 0) await this.managerCall("DisableUnitFiles", "asb", [[...names], true]);
  }

  async reload(): Promise<void> {
    await this.managerCall("Reload", "", []);
  }

  async startUnit(name: string, timeoutMs: number): Promise<string> {
    const [jobPath] = (await this.managerCall("StartUnit", "ss", [name, "replace"])) as [string];
    return this.waitForJob(jobPath, timeoutMs);
  }

  /** The job's result from systemd's JobRemoved signal, or "pending" after timeoutMs. */
  private waitForJob(jobPath: string, timeoutMs: number): Promise<string> {
    const finished = this.finishedJobs.get(jobPath);
    if (finished !== undefined) {
      this.finishedJobs.delete(jobPath);
      return Promise.resolve(finished);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.jobWaiters.delete(jobPath);
        resolve("pending");
      }, timeoutMs);
      this.jobWaiters.set(jobPath, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
    });
  }

  async stopUnit(name: string, timeoutMs: number): Promise<void> {
    let jobPath: string;
    try {
      [jobPath] = (await this.managerCall("StopUnit", "ss", [name, "replace"])) as [string];
    } catch (err) {
      if (err instanceof dbus.DBusError && err.type === "org.freedesktop.systemd1.NoSuchUnit") return;
      throw err;
    }
    await this.waitForJob(jobPath, timeoutMs);
  }

  async resetFailedUnit(name: string): Promise<void> {
    try {
      await this.managerCall("ResetFailedUnit", "s", [name]);
    } catch (err) {
      if (err instanceof dbus.DBusError && err.type === "org.freedesktop.systemd1.NoSuchUnit") return;
      throw err;
    }
  }

  onUnitChange(listener: Parameters<UnitManager["onUnitChange"]>[0]): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.bus.disconnect();
  }
}

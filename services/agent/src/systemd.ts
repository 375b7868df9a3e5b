// The agent's edge to systemd: manager calls over the system bus (dbus-next, raw messages, no
// introspection) and the signals systemd sends about our units.
import dbus from "dbus-next";
import { CallLimiter } from "./call-limiter.js";
import { countedDbusCall } from "./agent-metrics.js";
import { UNIT_PATH_PREFIX, unitObjectPath } from "./unit-path.js";

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

/** What the agent needs from systemd; the real one is below, a fake one lives in fake-systemd.ts. */
export interface UnitManager {
  listUnitsByNames(names: readonly string[]): Promise<SystemdUnitStatus[]>;
  /** Links unit files into systemd's runtime unit path, all in one call. */
  linkUnitFiles(paths: readonly string[]): Promise<void>;
  reload(): Promise<void>;
  /** Those of the units whose file changed on disk since systemd loaded it (their
   * NeedDaemonReload): a start would run systemd's older copy until a reload. */
  needingReload(names: readonly string[]): Promise<string[]>;
  /** Enables units at runtime (their [Install] section), by name. */
  enableUnitFiles(names: readonly string[]): Promise<void>;
  disableUnitFiles(names: readonly string[]): Promise<void>;
  /** Starts the unit; resolves with the start job's result ("done", "failed", "canceled",
   * "dependency", ..., or "pending" if it did not finish within timeoutMs). */
  startUnit(name: string, timeoutMs: number, o?: CallOptions): Promise<string>;
  /** Restarts the unit (starts it when inactive); resolves with the job's result as startUnit. */
  restartUnit(name: string, timeoutMs: number, o?: CallOptions): Promise<string>;
  /** Stops the unit and resolves once the stop job finished. "No such unit" counts as stopped. */
  stopUnit(name: string, timeoutMs: number): Promise<void>;
  resetFailedUnit(name: string): Promise<void>;
  /** Asks for the units' state signals (onUnitChange); other units' signals are not delivered. */
  watchUnits(names: readonly string[]): Promise<void>;
  unwatchUnits(names: readonly string[]): Promise<void>;
  /** Called with the unit's object path and its changed Unit properties. */
  onUnitChange(listener: (path: string, changed: Partial<Record<"LoadState" | "ActiveState" | "SubState", string>>) => void): void;
  close(): void;
}

export interface CallOptions {
  /** Not queued behind other calls (the at-most-once fence's re-arm must take effect at once). */
  readonly urgent?: boolean;
}

type Body = unknown[];

/** dbus-daemon refuses a connection more than 128 pending method calls on the system bus
 * (max_replies_per_connection); the agent keeps at most this many in flight and queues the
 * rest, leaving room for urgent calls and for the bus's own. */
export const MAX_PENDING_CALLS = 64;

/** dbus-daemon's default limit is 512 match rules per connection on the system bus; beyond this
 * many watched units the agent takes every unit's signals instead of one rule per unit. */
export const MAX_UNIT_MATCHES = 400;

/** A unit's state signals only: PropertiesChanged of its Unit interface (not the Service one,
 * and not the targets and slices whose dependency lists change with every new unit). */
function unitChangesRule(pathClause: string): string {
  return `type='signal',sender='${DEST}',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',${pathClause},arg0='${UNIT_IFACE}'`;
}
const unitMatchRule = (path: string): string => unitChangesRule(`path='${path}'`);
const ALL_UNITS_MATCH_RULE = unitChangesRule(`path_namespace='${PATH}/unit'`);

export class DbusUnitManager implements UnitManager {
  private readonly jobWaiters = new Map<string, (result: string) => void>();
  /** Jobs that finished before anyone waited for them (the reply and the signal can race). */
  private readonly finishedJobs = new Map<string, string>();
  private readonly listeners: Array<Parameters<UnitManager["onUnitChange"]>[0]> = [];
  /** Object paths with their own match rule. */
  private readonly watched = new Set<string>();
  /** Set once the agent watches more units than MAX_UNIT_MATCHES: one rule for all units. */
  private watchingAll = false;
  private readonly limiter = new CallLimiter(MAX_PENDING_CALLS);

  private constructor(private readonly bus: dbus.MessageBus) {
    bus.on("message", (msg) => this.onMessage(msg));
  }

  /** On the system bus (tests pass a bus of their own). */
  static async connect(bus: dbus.MessageBus = dbus.systemBus()): Promise<DbusUnitManager> {
    const manager = new DbusUnitManager(bus);
    await manager.busCall("AddMatch", `type='signal',sender='${DEST}',interface='${MANAGER}',member='JobRemoved'`);
    await manager.managerCall("Subscribe", "", []);
    return manager;
  }

  private async call(destination: string, path: string, iface: string, member: string, signature: string, body: Body, o: CallOptions = {}): Promise<Body> {
    const send = () => this.bus.call(new dbus.Message({ destination, path, interface: iface, member, signature, body }));
    const reply = await countedDbusCall(member, () => (o.urgent ? send() : this.limiter.run(send)));
    return reply?.body ?? [];
  }

  private busCall(member: "AddMatch" | "RemoveMatch", rule: string): Promise<Body> {
    return this.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", member, "s", [rule]);
  }

  private managerCall(member: string, signature: string, body: Body, o?: CallOptions): Promise<Body> {
    return this.call(DEST, PATH, MANAGER, member, signature, body, o);
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

  async needingReload(names: readonly string[]): Promise<string[]> {
    const stale = await Promise.all(
      names.map(async (name) => {
        try {
          const [v] = (await this.call(DEST, unitObjectPath(name), "org.freedesktop.DBus.Properties", "Get", "ss", [UNIT_IFACE, "NeedDaemonReload"])) as [dbus.Variant<boolean>];
          return v.value === true;
        } catch {
          // systemd cannot say: a reload is the safe side (it costs time, a stale start costs a wrong unit).
          return true;
        }
      }),
    );
    return names.filter((_, i) => stale[i]);
  }

  async startUnit(name: string, timeoutMs: number, o?: CallOptions): Promise<string> {
    const [jobPath] = (await this.managerCall("StartUnit", "ss", [name, "replace"], o)) as [string];
    return this.waitForJob(jobPath, timeoutMs);
  }

  async restartUnit(name: string, timeoutMs: number, o?: CallOptions): Promise<string> {
    const [jobPath] = (await this.managerCall("RestartUnit", "ss", [name, "replace"], o)) as [string];
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

  async watchUnits(names: readonly string[]): Promise<void> {
    const paths = names.map(unitObjectPath).filter((p) => !this.watched.has(p));
    if (this.watchingAll || paths.length === 0) return;
    if (this.watched.size + paths.length > MAX_UNIT_MATCHES) {
      await this.busCall("AddMatch", ALL_UNITS_MATCH_RULE);
      this.watchingAll = true;
      await Promise.allSettled([...this.watched].map((p) => this.busCall("RemoveMatch", unitMatchRule(p))));
      this.watched.clear();
      return;
    }
    for (const p of paths) this.watched.add(p);
    const added = await Promise.allSettled(paths.map((p) => this.busCall("AddMatch", unitMatchRule(p))));
    // A rule the bus refused is asked for again next time.
    const refused = paths.filter((p, i) => added[i]?.status === "rejected");
    for (const p of refused) this.watched.delete(p);
    const first = added.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (first) throw new Error(`${refused.length} of ${paths.length} match rules refused: ${(first.reason as Error).message}`);
  }

  async unwatchUnits(names: readonly string[]): Promise<void> {
    const paths = names.map(unitObjectPath).filter((p) => this.watched.delete(p));
    await Promise.all(paths.map((p) => this.busCall("RemoveMatch", unitMatchRule(p))));
  }

  onUnitChange(listener: Parameters<UnitManager["onUnitChange"]>[0]): void {
    this.listeners.push(listener);
  }

  /**
   * The job systemd runs for unit `name` if that unit is the caller's (its InvocationID is the
   * INVOCATION_ID systemd gave the caller's process): the job's type ("stop", "restart", ...),
   * null when it has none, undefined when the unit is not the caller's (another systemd's unit of
   * that name, seen through a shared bus, or a later invocation). Throws when systemd cannot say.
   */
  async unitJob(name: string, invocationId: string): Promise<string | null | undefined> {
    const [path] = (await this.managerCall("GetUnit", "s", [name], { urgent: true })) as [string];
    const get = async (objectPath: string, iface: string, property: string): Promise<unknown> => {
      const [v] = (await this.call(DEST, objectPath, "org.freedesktop.DBus.Properties", "Get", "ss", [iface, property], { urgent: true })) as [dbus.Variant];
      return v.value;
    };
    const id = (await get(path, UNIT_IFACE, "InvocationID")) as Uint8Array;
    if (Buffer.from(id).toString("hex") !== invocationId.toLowerCase()) return undefined;
    const [jobId, jobPath] = (await get(path, UNIT_IFACE, "Job")) as [number, string];
    if (!jobId) return null;
    return (await get(jobPath, "org.freedesktop.systemd1.Job", "JobType")) as string;
  }

  close(): void {
    this.bus.disconnect();
  }
}

// The gRPC adapter against an in-process FleetService: mapping of messages, "not found" as a
// value, and deadlines.
import {
  createLogger,
  FleetServiceService,
  serve,
  shutdown,
  TargetState,
  unaryHandler,
  FleetError,
  type FleetServiceServer,
  type Unit,
  type UnitView,
} from "@fleet/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetApi } from "./fleet-api.js";
import { grpcFleetApi } from "./grpc-fleet-api.js";

const units = new Map<string, UnitView>();
let hang = false;

const log = createLogger("grpc-fleet-api-test", "silent");

/** A unary handler answering with fn's result or error; while `hang`, it never answers. */
function handler<Req, Res>(fn: (req: Req) => Res) {
  return unaryHandler<Req, Res>(log, "test", async (req) => (hang ? new Promise<Res>(() => {}) : fn(req)));
}

/** Tokens and the audit log are not used by these tests. */
const unused = handler((): never => {
  throw new FleetError("internal", "not used here");
});

const impl: FleetServiceServer = {
  createToken: unused,
  listTokens: unused,
  revokeToken: unused,
  listAudit: unused,
  createUnit: handler((req) => {
    const unit = req.unit as Unit;
    if (units.has(unit.name)) throw new FleetError("already-exists", `unit ${unit.name} already exists`);
    units.set(unit.name, { unit, machineId: "", currentState: TargetState.TARGET_STATE_UNSPECIFIED, reason: "no machines" });
    return { revision: 1 };
  }),
  replaceUnit: handler((req) => {
    const unit = req.unit as Unit;
    const view = units.get(unit.name);
    units.set(unit.name, view ? { ...view, unit } : { unit, machineId: "", currentState: TargetState.TARGET_STATE_UNSPECIFIED, reason: "" });
    return { revision: 5, created: view === undefined, replaced: view !== undefined };
  }),
  createUnits: handler((req) => {
    const created = req.units.map((unit) => {
      if (units.has(unit.name)) return false;
      units.set(unit.name, { unit, machineId: "", currentState: TargetState.TARGET_STATE_UNSPECIFIED, reason: "no machines" });
      return true;
    });
    return { revision: 4, created };
  }),
  watchUnits: (call) => {
    // The units as they are, then one change: a.service launched on m1.
    call.write({ units: call.request.names.flatMap((n) => (units.has(n) ? [units.get(n) as UnitView] : [])), missing: call.request.names.filter((n) => !units.has(n)) });
    const a = units.get("a.service");
    if (a?.unit) setTimeout(() => call.write({ units: [{ ...a, currentState: TargetState.TARGET_STATE_LAUNCHED, machineId: "m1" }], missing: [] }), 20);
  },
  getUnit: handler((req) => {
    const view = units.get(req.name);
    if (!view) throw new FleetError("not-found", `unit ${req.name} not found`);
    return { unit: view };
  }),
  listUnits: handler(() => ({ units: [...units.values()], total: units.size })),
  setUnitTargetState: handler((req) => {
    const view = units.get(req.name);
    if (!view?.unit) throw new FleetError("not-found", `unit ${req.name} not found`);
    units.set(req.name, { ...view, unit: { ...view.unit, desiredState: req.desiredState }, currentState: req.desiredState, machineId: "m1" });
    return { revision: 2 };
  }),
  destroyUnit: handler((req) => {
    if (!units.delete(req.name)) throw new FleetError("not-found", `unit ${req.name} not found`);
    return { revision: 3 };
  }),
  listUnitStates: handler((req) => ({
    states: [
      {
        name: "a.service",
        hash: "h",
        machineId: "m1",
        loadState: "loaded",
        activeState: "active",
        subState: "running",
        currentState: TargetState.TARGET_STATE_LAUNCHED,
        reason: "",
      },
    ].filter((s) => req.unitNames.length === 0 || req.unitNames.includes(s.name)),
  })),
  listMachines: handler(() => ({ machines: [{ id: "m1", publicIp: "10.0.0.1", metadata: { region: "eu" }, version: "1", agentEndpoint: "" }], engineStatus: { massLoss: "", heldMachines: [{ machineId: "m2", reason: "waiting" }] } })),
  setMachineMetadata: handler(() => ({ revision: 4 })),
  unitStatus: handler((req) => {
    if (req.unitName !== "a.service") throw new FleetError("failed-precondition", `Unit ${req.unitName} does not appear to be running.`);
    return { machineId: "m1", text: "● a.service\n", exitCode: 3 };
  }),
  journal: (call) => {
    call.write({ data: `-- ${call.request.lines} lines, ${call.request.output} --\n` });
    if (!call.request.follow) {
      call.end();
      return;
    }
    const timer = setInterval(() => call.write({ data: "tick\n" }), 5);
    call.on("cancelled", () => clearInterval(timer));
  },
};

let server: Awaited<ReturnType<typeof serve>>["server"];
let api: FleetApi;

beforeAll(async () => {
  const served = await serve("127.0.0.1:0", [[FleetServiceService, impl]]);
  server = served.server;
  const port = served.port;
  api = grpcFleetApi(`127.0.0.1:${port}`, 1_000);
});

afterAll(async () => {
  api.close();
  await shutdown(server);
});

describe("grpcFleetApi", () => {
  it("creates and reads a unit; a unit nobody reports on is inactive", async () => {
    const options = [{ section: "Service", name: "ExecStart", value: "/bin/true" }];
    await api.createUnit({ name: "a.service", options, hash: "abc", desiredState: "inactive" });
    expect(await api.getUnit("a.service")).toEqual({
      unit: { name: "a.service", options, hash: "abc", desiredState: "inactive" },
      machineId: "",
      currentState: "inactive",
      reason: "no machines",
    });
  });

  it("passes the server's message on errors", async () => {
    await expect(api.createUnit({ name: "a.service", options: [], hash: "", desiredState: "inactive" })).rejects.toThrow(
      "unit a.service already exists",
    );
  });

  it("creates units if absent, one at a time or many at once, saying which it created", async () => {
    const options = [{ section: "Service", name: "ExecStart", value: "/bin/true" }];
    const u = (name: string) => ({ name, options, hash: "", desiredState: "launched" as const });
    expect(await api.createUnitIfAbsent?.(u("a.service"))).toBe(false);
    expect(await api.createUnitsIfAbsent?.([u("b.service"), u("a.service"), u("c.service")])).toEqual([true, false, true]);
    expect((await api.getUnit("c.service"))?.unit.desiredState).toBe("launched");
    expect(await api.destroyUnit("b.service")).toBe(true);
    expect(await api.destroyUnit("c.service")).toBe(true);
  });

  it("replaces a unit's contents and desired state in one call (ReplaceUnit)", async () => {
    const unit = (value: string) => ({ name: "d.service", options: [{ section: "Service", name: "ExecStart", value }], hash: value, desiredState: "loaded" as const });
    await api.replaceUnit?.(unit("/bin/sleep 1"));
    await api.replaceUnit?.(unit("/bin/sleep 2"));
    expect((await api.getUnit("d.service"))?.unit).toEqual(unit("/bin/sleep 2"));
    expect(await api.destroyUnit("d.service")).toBe(true);
  });

  it("follows units: all of them first, then each change, until cancelled", async () => {
    const seen: string[] = [];
    const watch = api.watchUnits?.(["a.service", "nope.service"], (views) => {
      for (const [name, v] of views) seen.push(`${name}=${v ? `${v.currentState}@${v.machineId}` : "missing"}`);
    });
    await new Promise((r) => setTimeout(r, 200));
    watch?.cancel();
    await watch?.done;
    expect(seen).toEqual(["nope.service=missing", "a.service=inactive@", "a.service=launched@m1"]);
  });

  it("sets target states and lists units", async () => {
    await api.setUnitTargetState("a.service", "launched");
    const [view] = await api.listUnits();
    expect(view).toMatchObject({ machineId: "m1", currentState: "launched", unit: { desiredState: "launched" } });
  });

  it("maps not-found to values", async () => {
    expect(await api.getUnit("nope.service")).toBeUndefined();
    expect(await api.destroyUnit("nope.service")).toBe(false);
    expect(await api.destroyUnit("a.service")).toBe(true);
  });

  it("lists unit states and machines as domain values", async () => {
    expect(await api.listUnitStates()).toEqual([
      { name: "a.service", hash: "h", machineId: "m1", loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" },
    ]);
    expect(await api.listUnitStates(["b.service"])).toEqual([]);
    expect(await api.listMachines()).toEqual([{ id: "m1", publicIp: "10.0.0.1", metadata: { region: "eu" } }]);
    expect(await api.machineHealth?.()).toEqual({ massLoss: "", heldMachines: [{ machineId: "m2", reason: "waiting" }] });
  });

  it("reads a unit's status and the server's refusal", async () => {
    expect(await api.unitStatus?.("a.service")).toEqual({ machineId: "m1", text: "● a.service\n", exitCode: 3 });
    await expect(api.unitStatus?.("b.service")).rejects.toThrow("Unit b.service does not appear to be running.");
  });

  it("streams a journal, and follows one until cancelled", async () => {
    const seen: string[] = [];
    const once = api.journal?.("a.service", { lines: 5, follow: false, output: "cat" }, (t) => seen.push(t));
    await once?.done;
    expect(seen).toEqual(["-- 5 lines, cat --\n"]);
    const followed: string[] = [];
    const stream = api.journal?.("a.service", { lines: 1, follow: true, output: "short" }, (t) => followed.push(t));
    while (followed.length < 3) await new Promise((r) => setTimeout(r, 5));
    stream?.cancel();
    await stream?.done;
    expect(followed.slice(0, 2)).toEqual(["-- 1 lines, short --\n", "tick\n"]);
  });

  it("gives up after the request timeout", async () => {
    hang = true;
    try {
      const started = Date.now();
      const err = await api.listMachines().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(FleetError);
      expect((err as FleetError).kind).toBe("deadline-exceeded");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      hang = false;
    }
  });
});

// The agent's edge against a RegistryService on loopback that the test plays: a pass reads the
// machine's schedule only when the last heartbeat says it changed since the schedule held, a hint
// asks for a newer revision, or no recent heartbeat vouches for it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RegistryServiceService,
  serve,
  shutdown,
  TargetState,
  type GetMachineScheduleResponse,
  type MachineHeartbeatsRequest,
  type MachineHeartbeatsResponse,
  type ReportUnitStatesRequest,
  type ReportUnitStatesResponse,
  type ServerDuplexStream,
} from "@fleet/wire";
import { GatewayRegistry } from "./gateway-registry.js";

const M = "a".repeat(32);
/** What the played gateway answers: its cache revision, the machine's schedule revision, a failing heartbeat. */
const gateway = { revision: 100, scheduleRevision: 90, heartbeatFails: false, reads: 0, streamReads: 0, acceptsReports: false, acceptsScheduleReads: false, reportCalls: [] as string[][], streamReports: [] as string[][] };
let server: Awaited<ReturnType<typeof serve>>["server"];
let address = "";

beforeAll(async () => {
  const impl = {
    getMachineSchedule(_call: unknown, done: (err: null, res: GetMachineScheduleResponse) => void) {
      gateway.reads++;
      const unit = { name: `r${gateway.reads}.service`, options: [], hash: "", desiredState: TargetState.TARGET_STATE_LAUNCHED };
      done(null, { units: [unit], machines: [], revision: gateway.revision });
    },
    machineHeartbeats(call: ServerDuplexStream<MachineHeartbeatsRequest, MachineHeartbeatsResponse>) {
      call.on("data", (req: MachineHeartbeatsRequest) => {
        if (req.report) gateway.streamReports.push(req.report.states.map((s) => s.name));
        const schedule = req.scheduleRead ? { units: [], machines: [], revision: gateway.revision + ++gateway.streamReads } : undefined;
        const failed = gateway.heartbeatFails && !req.report && !req.scheduleRead;
        call.write({
          seq: req.seq,
          alive: !failed,
          errorKind: failed ? "unavailable" : "",
          errorMessage: failed ? "etcd is unavailable" : "",
          scheduleRevision: gateway.scheduleRevision,
          acceptsReports: gateway.acceptsReports,
          acceptsScheduleReads: gateway.acceptsScheduleReads,
          ...(schedule ? { schedule } : {}),
        });
      });
    },
    reportUnitStates(call: { request: ReportUnitStatesRequest }, done: (err: null, res: ReportUnitStatesResponse) => void) {
      gateway.reportCalls.push(call.request.states.map((s) => s.name));
      done(null, { revision: gateway.revision });
    },
  };
  type Impl = Parameters<typeof serve>[1][number][1];
  const served = await serve("127.0.0.1:0", [[RegistryServiceService, impl as unknown as Impl]]);
  server = served.server;
  address = `127.0.0.1:${served.port}`;
});

afterAll(async () => {
  await shutdown(server);
});

function registry() {
  let now = 0;
  const r = new GatewayRegistry(address, undefined, () => now);
  r.scheduleFreshForMs = 2500;
  return { r, advance: (ms: number) => (now += ms) };
}

const unitsOf = async (r: GatewayRegistry) => (await r.schedule(M)).units.map((u) => u.name);

describe("GatewayRegistry.schedule", () => {
  it("holds the schedule while heartbeats say it has not changed, and reads it again once it has", async () => {
    const { r } = registry();
    gateway.reads = 0;
    gateway.scheduleRevision = 90;
    expect(await unitsOf(r)).toEqual(["r1.service"]); // nothing held yet
    await r.heartbeat(M, "1");
    expect(await unitsOf(r)).toEqual(["r1.service"]);
    expect(await unitsOf(r)).toEqual(["r1.service"]);
    gateway.scheduleRevision = 101;
    gateway.revision = 101;
    await r.heartbeat(M, "1");
    expect(await unitsOf(r)).toEqual(["r2.service"]);
    expect(gateway.reads).toBe(2);
    r.close();
  });

  it("reads again for a hint's newer revision, after a failed heartbeat, and once the last heartbeat is too old", async () => {
    const { r, advance } = registry();
    gateway.reads = 0;
    gateway.revision = 200;
    gateway.scheduleRevision = 150;
    await unitsOf(r);
    await r.heartbeat(M, "1");
    await unitsOf(r);
    expect(gateway.reads).toBe(1);

    r.observe(201); // a hint
    await unitsOf(r);
    expect(gateway.reads).toBe(2);
    gateway.revision = 201;
    await unitsOf(r);
    expect(gateway.reads).toBe(3);
    await unitsOf(r);
    expect(gateway.reads).toBe(3);

    gateway.heartbeatFails = true;
    await expect(r.heartbeat(M, "1")).rejects.toMatchObject({ kind: "unavailable" });
    gateway.heartbeatFails = false;
    await unitsOf(r);
    expect(gateway.reads).toBe(4);

    await r.heartbeat(M, "1");
    advance(2501);
    await unitsOf(r);
    expect(gateway.reads).toBe(5);

    // However current heartbeats say it is, a schedule read 60 s ago is read again.
    r.scheduleMaxHeldMs = 60_000;
    await r.heartbeat(M, "1");
    await unitsOf(r);
    expect(gateway.reads).toBe(5);
    advance(60_001);
    await r.heartbeat(M, "1");
    await unitsOf(r);
    expect(gateway.reads).toBe(6);
    r.close();
  });
});

describe("GatewayRegistry.report", () => {
  const state = (name: string) => ({ name, hash: "h", machineId: M, loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" as const });

  it("goes on the heartbeat stream to a gateway whose answers say it takes reports there, by call to one that does not", async () => {
    gateway.reportCalls = [];
    gateway.streamReports = [];
    gateway.acceptsReports = false;
    const { r } = registry();
    try {
      await r.report(M, "1", [state("before.service")], []);
      expect(await r.heartbeat(M, "1")).toBe(true);
      await r.report(M, "1", [state("older-gateway.service")], []);
      gateway.acceptsReports = true;
      expect(await r.heartbeat(M, "1")).toBe(true);
      await r.report(M, "1", [state("streamed.service")], []);
      expect(gateway.reportCalls).toEqual([["before.service"], ["older-gateway.service"]]);
      expect(gateway.streamReports).toEqual([["streamed.service"]]);
    } finally {
      r.close();
    }
  });
});

describe("GatewayRegistry.schedule on the heartbeat stream", () => {
  it("reads there once its gateway answers reads there, by call before", async () => {
    gateway.acceptsScheduleReads = false;
    const { r } = registry();
    try {
      const [calls, streamed] = [gateway.reads, gateway.streamReads];
      r.observe(1_000); // a hint: the held schedule is too old, every pass reads
      await r.schedule(M);
      expect([gateway.reads - calls, gateway.streamReads - streamed]).toEqual([1, 0]);
      gateway.acceptsScheduleReads = true;
      expect(await r.heartbeat(M, "1")).toBe(true);
      r.observe(2_000);
      await r.schedule(M);
      expect([gateway.reads - calls, gateway.streamReads - streamed]).toEqual([1, 1]);
    } finally {
      gateway.acceptsScheduleReads = false;
      r.close();
    }
  });
});


// The registry-gateway against a real etcd and a real NATS: what its clients (api, engine,
// agents) rely on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGINE_SUBJECT, machineSubject, decodeHint, unresponsiveMachineReason } from "@fleet/domain";
import { FleetError, TargetState, unary, type RegistryServiceClient } from "@fleet/wire";
import { waitFor } from "@fleet/launcher";
import { GatewayRegistry } from "@fleet/agent";
import { startGatewayFixture, type GatewayFixture } from "./gateway-fixture.js";

let fx: GatewayFixture;
let c: RegistryServiceClient;
beforeAll(async () => {
  fx = await startGatewayFixture();
  c = fx.client;
});
afterAll(async () => {
  await fx?.stop();
});

const options = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
const unit = (name: string, desiredState = TargetState.TARGET_STATE_INACTIVE) => ({ unit: { name, options, hash: "", desiredState } });
const machineId = (n: number) => n.toString(16).padStart(32, "0");

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof FleetError ? err.kind : String(err);
  }
}

describe("units", () => {
  it("creates a unit with a server-computed hash and reads it back", async () => {
    const { revision } = await unary(c.createUnit.bind(c), unit("hello.service"));
    const got = await unary(c.getUnit.bind(c), { name: "hello.service", minRevision: revision });
    expect(got.unit?.name).toBe("hello.service");
    expect(got.unit?.hash).toMatch(/^[0-9a-f]{40}$/);
    expect(got.unit?.desiredState).toBe(TargetState.TARGET_STATE_INACTIVE);
  });

  it("creating a unit again with the same contents succeeds (a retry is safe); other contents are refused", async () => {
    const again = await unary(c.createUnit.bind(c), unit("hello.service"));
    expect(again.existed).toBe(true);
    const other = { unit: { name: "hello.service", options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }], hash: "", desiredState: 0 } };
    expect(await kindOf(unary(c.createUnit.bind(c), other))).toBe("already-exists");
    // Same contents at another desired state is not the same unit either.
    expect(await kindOf(unary(c.createUnit.bind(c), unit("hello.service", TargetState.TARGET_STATE_LAUNCHED)))).toBe("already-exists");
    const got = await unary(c.getUnit.bind(c), { name: "hello.service", minRevision: again.revision });
    expect(got.unit?.desiredState).toBe(TargetState.TARGET_STATE_INACTIVE);
    expect(got.unit?.options.find((o) => o.name === "ExecStart")?.value).toBe("/bin/sleep infinity");
  });

  it("never schedules a template: created or set loaded/launched is refused, submitted inactive is kept", async () => {
    const refused = async (p: Promise<unknown>): Promise<string> => {
      try {
        await p;
        return "ok";
      } catch (err) {
        return err instanceof FleetError ? `${err.kind}: ${err.message}` : String(err);
      }
    };
    expect(await refused(unary(c.createUnit.bind(c), unit("tpl@.service", TargetState.TARGET_STATE_LAUNCHED)))).toBe(
      'invalid-argument: cannot activate template "tpl@.service"',
    );
    expect(await refused(unary(c.createUnits.bind(c), { units: [{ name: "tpl@.service", options, hash: "", desiredState: TargetState.TARGET_STATE_LOADED }] }))).toBe(
      'invalid-argument: cannot activate template "tpl@.service"',
    );
    const { revision } = await unary(c.createUnit.bind(c), unit("tpl@.service"));
    expect(await refused(unary(c.setUnitDesiredState.bind(c), { name: "tpl@.service", desiredState: TargetState.TARGET_STATE_LOADED }))).toBe(
      'invalid-argument: cannot activate template "tpl@.service"',
    );
    // Its instances are ordinary units.
    const inst = await unary(c.createUnit.bind(c), unit("tpl@1.service", TargetState.TARGET_STATE_LAUNCHED));
    const list = await unary(c.listUnits.bind(c), { minRevision: Math.max(revision, inst.revision), offset: 0, limit: 0 });
    expect(list.units.filter((u) => u.name.startsWith("tpl@")).map((u) => [u.name, u.desiredState])).toEqual([
      ["tpl@.service", TargetState.TARGET_STATE_INACTIVE],
      ["tpl@1.service", TargetState.TARGET_STATE_LAUNCHED],
    ]);
    await unary(c.destroyUnit.bind(c), { name: "tpl@.service" });
    await unary(c.destroyUnit.bind(c), { name: "tpl@1.service" });
  });

  it("refuses an invalid name and an unknown unit, and changes nothing", async () => {
    expect(await kindOf(unary(c.createUnit.bind(c), unit("../etc/passwd.service")))).toBe("invalid-argument");
    expect(await kindOf(unary(c.createUnit.bind(c), unit("noSuffix")))).toBe("invalid-argument");
    const globalAndPinned = [...options, { section: "X-Fleet", name: "Global", value: "true" }, { section: "X-Fleet", name: "MachineOf", value: "db.service" }];
    expect(await kindOf(unary(c.createUnit.bind(c), { unit: { name: "g.service", options: globalAndPinned, hash: "", desiredState: 0 } }))).toBe("invalid-argument");
    expect(await kindOf(unary(c.getUnit.bind(c), { name: "nope.service", minRevision: 0 }))).toBe("not-found");
    expect(await kindOf(unary(c.setUnitDesiredState.bind(c), { name: "nope.service", desiredState: TargetState.TARGET_STATE_LAUNCHED }))).toBe("not-found");
    expect(await kindOf(unary(c.destroyUnit.bind(c), { name: "nope.service" }))).toBe("not-found");
    const list = await unary(c.listUnits.bind(c), { minRevision: 0, offset: 0, limit: 0 });
    expect(list.units.map((u) => u.name)).toEqual(["hello.service"]);
  });

  it("creates many units in one request: the new ones, leaving those that exist as they are", async () => {
    const batch = (names: string[], opts = options) => ({ units: names.map((name) => ({ name, options: opts, hash: "", desiredState: TargetState.TARGET_STATE_LOADED })) });
    const names = Array.from({ length: 150 }, (_, i) => `batch-${i}.service`);
    const first = await unary(c.createUnits.bind(c), batch(names.slice(0, 120)));
    expect(first.created).toEqual(names.slice(0, 120).map(() => true));
    // 150 more than 100 (one transaction's worth), 120 of them existing: the rest is created.
    const second = await unary(c.createUnits.bind(c), batch(names, [{ section: "Service", name: "ExecStart", value: "/bin/true" }]));
    expect(second.created).toEqual(names.map((_, i) => i >= 120));
    const list = await unary(c.listUnits.bind(c), { minRevision: second.revision, offset: 0, limit: 0 });
    const created = list.units.filter((u) => u.name.startsWith("batch-"));
    expect(created).toHaveLength(150);
    expect(created.every((u) => u.desiredState === TargetState.TARGET_STATE_LOADED)).toBe(true);
    // The existing ones kept their contents.
    expect(list.units.find((u) => u.name === "batch-0.service")?.options.find((o) => o.name === "ExecStart")?.value).toBe("/bin/sleep infinity");
    for (const name of names) await unary(c.destroyUnit.bind(c), { name });
  });

  it("refuses a batch with an invalid unit or a name twice, and writes none of it", async () => {
    const u = (name: string) => ({ name, options, hash: "", desiredState: TargetState.TARGET_STATE_LAUNCHED });
    expect(await kindOf(unary(c.createUnits.bind(c), { units: [u("good-1.service"), u("bad/name.service")] }))).toBe("invalid-argument");
    expect(await kindOf(unary(c.createUnits.bind(c), { units: [u("good-1.service"), u("good-1.service")] }))).toBe("invalid-argument");
    const list = await unary(c.listUnits.bind(c), { minRevision: 0, offset: 0, limit: 0 });
    expect(list.units.map((x) => x.name)).not.toContain("good-1.service");
  });

  it("follows named units: first as they are, then each change, and refuses bad names", async () => {
    const seen: string[] = [];
    const call = c.watchUnits({ names: ["watched.service", "hello.service"], minRevision: 0 });
    call.on("data", (m: { units: Array<{ unit?: { name: string; desiredState: number } }>; missing: string[] }) => {
      for (const u of m.units) seen.push(`${u.unit?.name}:${u.unit?.desiredState}`);
      for (const n of m.missing) seen.push(`${n}:missing`);
    });
    call.on("error", () => {});
    await waitFor("first message", () => seen.length >= 2, { timeoutMs: 5000, intervalMs: 10 });
    await unary(c.createUnit.bind(c), unit("watched.service", TargetState.TARGET_STATE_LOADED));
    await unary(c.createUnit.bind(c), unit("unwatched.service"));
    await unary(c.destroyUnit.bind(c), { name: "watched.service" });
    await waitFor("the changes", () => seen.length >= 4, { timeoutMs: 5000, intervalMs: 10 });
    call.cancel();
    expect(seen).toEqual(["hello.service:1", "watched.service:missing", `watched.service:${TargetState.TARGET_STATE_LOADED}`, "watched.service:missing"]);
    await unary(c.destroyUnit.bind(c), { name: "unwatched.service" });

    const bad = c.watchUnits({ names: ["../x.service"], minRevision: 0 });
    const err = await new Promise<unknown>((resolve) => bad.on("error", resolve));
    expect(err).toMatchObject({ code: 3 });
  });

  it("changes the desired state and tells the engine", async () => {
    const hints: string[] = [];
    const sub = fx.natsClient.subscribe(ENGINE_SUBJECT, { callback: (_e, m) => hints.push(decodeHint(m.data)?.what ?? "") });
    // The server has the subscription before the hint can be sent.
    await fx.natsClient.flush();
    const { revision } = await unary(c.setUnitDesiredState.bind(c), { name: "hello.service", desiredState: TargetState.TARGET_STATE_LAUNCHED });
    const got = await unary(c.getUnit.bind(c), { name: "hello.service", minRevision: revision });
    expect(got.unit?.desiredState).toBe(TargetState.TARGET_STATE_LAUNCHED);
    await waitFor("engine hint", () => hints.includes("unit hello.service"), { timeoutMs: 5000, intervalMs: 20 });
    sub.unsubscribe();
  });

  it("rejects an unspecified desired state", async () => {
    expect(await kindOf(unary(c.setUnitDesiredState.bind(c), { name: "hello.service", desiredState: TargetState.TARGET_STATE_UNSPECIFIED }))).toBe("invalid-argument");
  });
});

describe("machines, leases and unit states", () => {
  it("a machine's registration and its unit states vanish when its lease lapses", async () => {
    const id = machineId(1);
    const reg = await unary(c.registerMachine.bind(c), { machine: { id, publicIp: "10.0.0.1", metadata: { region: "east" }, version: "", agentEndpoint: "" }, ttlSeconds: 2 });
    await unary(c.reportUnitStates.bind(c), {
      machineId: id,
      leaseId: reg.leaseId,
      states: [{ name: "hello.service", hash: "h", machineId: id, loadState: "loaded", activeState: "active", subState: "running", currentState: TargetState.TARGET_STATE_LAUNCHED, reason: "" }],
      removed: [],
    });
    const machines = await unary(c.listMachines.bind(c), { minRevision: reg.revision });
    expect(machines.machines.find((m) => m.id === id)?.metadata).toEqual({ region: "east" });
    expect((await unary(c.listUnitStates.bind(c), { machineId: id, unitNames: [], minRevision: 0 })).states).toHaveLength(1);
    expect((await unary(c.machineHeartbeat.bind(c), { machineId: id, leaseId: reg.leaseId })).alive).toBe(true);

    await waitFor(
      "machine to expire",
      async () => (await unary(c.listMachines.bind(c), { minRevision: 0 })).machines.every((m) => m.id !== id),
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect((await unary(c.listUnitStates.bind(c), { machineId: id, unitNames: [], minRevision: 0 })).states).toHaveLength(0);
    expect((await unary(c.machineHeartbeat.bind(c), { machineId: id, leaseId: reg.leaseId })).alive).toBe(false);
    expect(
      await kindOf(unary(c.reportUnitStates.bind(c), { machineId: id, leaseId: reg.leaseId, states: [], removed: ["hello.service"] })),
    ).toBe("failed-precondition");
  });

  it("heartbeats over the agent's MachineHeartbeats stream keep a machine; agent_ttl after they stop, the gateway revokes its lease", async () => {
    const id = machineId(2);
    const reg = await unary(c.registerMachine.bind(c), { machine: { id, publicIp: "10.0.0.2", metadata: {}, version: "", agentEndpoint: "" }, ttlSeconds: 2 });
    const agent = new GatewayRegistry(fx.gatewayAddress);
    try {
      // Three agent_ttl of heartbeats every agent_ttl/3, one stream.
      for (let i = 0; i < 9; i++) {
        expect(await agent.heartbeat(id, reg.leaseId)).toBe(true);
        await new Promise((r) => setTimeout(r, 650));
      }
      expect((await unary(c.listMachines.bind(c), { minRevision: 0 })).machines.some((m) => m.id === id)).toBe(true);
      // Its state reports go on the same stream (the gateway's answers said it takes them), fenced as calls are.
      const reported = { name: "streamed.service", hash: "h", machineId: id, loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" as const };
      await agent.report(id, reg.leaseId, [reported], []);
      expect((await unary(c.listUnitStates.bind(c), { machineId: id, unitNames: [], minRevision: 0 })).states.map((st) => [st.name, st.activeState])).toEqual([["streamed.service", "active"]]);
      await expect(agent.report(id, "12345", [reported], [])).rejects.toMatchObject({ kind: "failed-precondition" });
      const stoppedAt = Date.now();
      await waitFor("machine to be revoked", async () => (await unary(c.listMachines.bind(c), { minRevision: 0 })).machines.every((m) => m.id !== id), { timeoutMs: 10_000, intervalMs: 50 });
      // Revoked by the gateway after agent_ttl, not left to lapse after the lease's 2 × agent_ttl.
      expect(Date.now() - stoppedAt).toBeLessThan(3_500);
      expect(await agent.heartbeat(id, reg.leaseId)).toBe(false);
      await expect(agent.heartbeat("nope", reg.leaseId)).rejects.toMatchObject({ kind: "invalid-argument" });
    } finally {
      agent.close();
    }
  });

  it("metadata set through the API outlives the machine leaving and rejoining", async () => {
    const id = machineId(3);
    const machine = { id, publicIp: "10.0.0.3", metadata: { region: "east", disk: "hdd" }, version: "", agentEndpoint: "" };
    const reg = await unary(c.registerMachine.bind(c), { machine, ttlSeconds: 2 });
    const set = await unary(c.setMachineMetadata.bind(c), { machineId: id, set: { disk: "ssd", rack: "r1" }, remove: ["region"] });
    const seen = async (min: number) => (await unary(c.listMachines.bind(c), { minRevision: min })).machines.find((m) => m.id === id)?.metadata;
    expect(await seen(Math.max(reg.revision, set.revision))).toEqual({ disk: "ssd", rack: "r1" });
    await waitFor("machine to expire", async () => (await seen(0)) === undefined, { timeoutMs: 10_000, intervalMs: 200 });
    const again = await unary(c.registerMachine.bind(c), { machine, ttlSeconds: 30 });
    expect(await seen(again.revision)).toEqual({ disk: "ssd", rack: "r1" });
    expect(await kindOf(unary(c.setMachineMetadata.bind(c), { machineId: id, set: { "bad key": "x" }, remove: [] }))).toBe("invalid-argument");
    // A machine never seen is no error, as in fleet 1.0: the change waits for it to register.
    expect(await kindOf(unary(c.setMachineMetadata.bind(c), { machineId: machineId(99), set: { a: "b" }, remove: [] }))).toBe("ok");
  });

  it("refuses a malformed machine id", async () => {
    expect(await kindOf(unary(c.registerMachine.bind(c), { machine: { id: "../x", publicIp: "", metadata: {}, version: "", agentEndpoint: "" }, ttlSeconds: 5 }))).toBe(
      "invalid-argument",
    );
  });
});

describe("engine leadership and the schedule", () => {
  it("elects one leader, fences the others' writes, and hints the machine a unit lands on", async () => {
    const a = await unary(c.acquireLeadership.bind(c), { candidateId: "engine-a", ttlSeconds: 5 });
    expect(a.elected).toBe(true);
    const b = await unary(c.acquireLeadership.bind(c), { candidateId: "engine-b", ttlSeconds: 5 });
    expect(b).toMatchObject({ elected: false, leaderId: "engine-a" });

    const id = machineId(2);
    const hints: string[] = [];
    const sub = fx.natsClient.subscribe(machineSubject(id), { callback: (_e, m) => hints.push(decodeHint(m.data)?.what ?? "") });
    await fx.natsClient.flush();
    const placement = { unitName: "hello.service", machineId: id, reason: "test" };
    expect(await kindOf(unary(c.applySchedule.bind(c), { candidateId: "engine-b", fence: a.fence, placements: [placement], absentMachines: [] }))).toBe("failed-precondition");
    expect(await kindOf(unary(c.applySchedule.bind(c), { candidateId: "engine-a", fence: a.fence + 1, placements: [placement], absentMachines: [] }))).toBe(
      "failed-precondition",
    );
    const applied = await unary(c.applySchedule.bind(c), { candidateId: "engine-a", fence: a.fence, placements: [placement], absentMachines: [] });
    const reg = await unary(c.registerMachine.bind(c), { machine: { id, publicIp: "10.0.0.2", metadata: {}, version: "", agentEndpoint: "" }, ttlSeconds: 30 });
    const schedule = await unary(c.getMachineSchedule.bind(c), { machineId: id, minRevision: Math.max(applied.revision, reg.revision) });
    expect(schedule.units.map((u) => u.name)).toEqual(["hello.service"]);
    await waitFor("machine hint", () => hints.includes("schedule hello.service"), { timeoutMs: 5000, intervalMs: 20 });
    sub.unsubscribe();

    // The leader resigns: the standby is elected and the old term's fence no longer writes.
    await unary(c.resignLeadership.bind(c), { candidateId: "engine-a", leaseId: a.leaseId, fence: a.fence });
    const b2 = await waitFor(
      "standby to be elected",
      async () => {
        const r = await unary(c.acquireLeadership.bind(c), { candidateId: "engine-b", ttlSeconds: 5 });
        return r.elected ? r : undefined;
      },
      { timeoutMs: 5000, intervalMs: 100 },
    );
    expect(b2.fence).toBeGreaterThan(a.fence);
    expect(await kindOf(unary(c.applySchedule.bind(c), { candidateId: "engine-a", fence: a.fence, placements: [placement], absentMachines: [] }))).toBe("failed-precondition");
    expect((await unary(c.renewLeadership.bind(c), { candidateId: "engine-a", leaseId: a.leaseId, fence: a.fence })).stillLeader).toBe(false);
    await unary(c.resignLeadership.bind(c), { candidateId: "engine-b", leaseId: b2.leaseId, fence: b2.fence });
  });

  it("destroying a unit removes its placement too", async () => {
    const { revision } = await unary(c.destroyUnit.bind(c), { name: "hello.service" });
    const snap = await unary(c.getClusterSnapshot.bind(c), { minRevision: revision });
    expect(snap.units).toHaveLength(0);
    expect(snap.placements).toHaveLength(0);
  });
});

describe("what the engine's liveness rules ask of the gateway", () => {
  const machine = (n: number) => ({ id: machineId(n), publicIp: `10.0.1.${n}`, metadata: {}, version: "", agentEndpoint: "" });

  it("GetMachineLeases: what remains of registered machines' leases, as etcd counts it", async () => {
    const a = await unary(c.registerMachine.bind(c), { machine: machine(41), ttlSeconds: 30 });
    const b = await unary(c.registerMachine.bind(c), { machine: machine(42), ttlSeconds: 10 });
    await unary(c.listMachines.bind(c), { minRevision: Math.max(a.revision, b.revision) });
    const some = await unary(c.getMachineLeases.bind(c), { machineIds: [machineId(41), machineId(42), machineId(43)], heardOnly: false, exceptMachineIds: [] });
    const byId = new Map(some.leases.map((l) => [l.machineId, l]));
    // Not registered: left out.
    expect([...byId.keys()].sort()).toEqual([machineId(41), machineId(42)]);
    // Machines this gateway hears: how long until it would declare them silent, out of agent_ttl.
    expect(byId.get(machineId(41))?.grantedMs).toBe(30_000);
    expect(byId.get(machineId(41))?.remainingMs).toBeGreaterThanOrEqual(28_000);
    expect(byId.get(machineId(41))?.remainingMs).toBeLessThanOrEqual(30_000);
    expect(byId.get(machineId(42))?.grantedMs).toBe(10_000);
    expect(byId.get(machineId(42))?.remainingMs).toBeLessThanOrEqual(10_000);
    // Empty: every registered machine.
    const all = await unary(c.getMachineLeases.bind(c), { machineIds: [], heardOnly: false, exceptMachineIds: [] });
    expect(all.leases.map((l) => l.machineId)).toEqual(expect.arrayContaining([machineId(41), machineId(42)]));
    expect(await kindOf(unary(c.getMachineLeases.bind(c), { machineIds: ["nope"], heardOnly: false, exceptMachineIds: [] }))).toBe("invalid-argument");
  });

  it("ApplySchedule with absent_machines: ABORTED while one is registered, applied once none is", async () => {
    const lead = await unary(c.acquireLeadership.bind(c), { candidateId: "engine-c", ttlSeconds: 10 });
    expect(lead.elected).toBe(true);
    await unary(c.createUnit.bind(c), unit("amo.service", TargetState.TARGET_STATE_LAUNCHED));
    const away = { unitName: "amo.service", machineId: machineId(42), reason: "moved" };
    let err: unknown;
    try {
      await unary(c.applySchedule.bind(c), { candidateId: "engine-c", fence: lead.fence, placements: [away], absentMachines: [machineId(43), machineId(41)] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetError);
    expect((err as FleetError).kind).toBe("aborted");
    expect((err as FleetError).message).toContain(`machine ${machineId(41)} is registered again`);
    expect((await unary(c.getUnit.bind(c), { name: "amo.service", minRevision: 0 })).placement?.machineId ?? "").toBe("");
    // A deposed leader still hears FAILED_PRECONDITION, whatever the machines.
    expect(
      await kindOf(unary(c.applySchedule.bind(c), { candidateId: "engine-c", fence: lead.fence + 1, placements: [away], absentMachines: [machineId(41)] })),
    ).toBe("failed-precondition");
    const applied = await unary(c.applySchedule.bind(c), { candidateId: "engine-c", fence: lead.fence, placements: [away], absentMachines: [machineId(43)] });
    expect((await unary(c.getUnit.bind(c), { name: "amo.service", minRevision: applied.revision })).placement?.machineId).toBe(machineId(42));
    await unary(c.resignLeadership.bind(c), { candidateId: "engine-c", leaseId: lead.leaseId, fence: lead.fence });
    await unary(c.destroyUnit.bind(c), { name: "amo.service" });
  });

  it("ReportEngineStatus: the leader's liveness report, fenced, returned by ListMachines", async () => {
    const lead = await unary(c.acquireLeadership.bind(c), { candidateId: "engine-s", ttlSeconds: 10 });
    expect(lead.elected).toBe(true);
    const status = { massLoss: "2 of 3 machines lost contact at once", heldMachines: [{ machineId: machineId(7), reason: "held" }] };
    expect(await kindOf(unary(c.reportEngineStatus.bind(c), { candidateId: "engine-x", fence: lead.fence, status }))).toBe("failed-precondition");
    expect(await kindOf(unary(c.reportEngineStatus.bind(c), { candidateId: "engine-s", fence: lead.fence, status: { massLoss: "", heldMachines: [{ machineId: "../x", reason: "" }] } }))).toBe(
      "invalid-argument",
    );
    const { revision } = await unary(c.reportEngineStatus.bind(c), { candidateId: "engine-s", fence: lead.fence, status });
    expect((await unary(c.listMachines.bind(c), { minRevision: revision })).engineStatus).toEqual(status);
    // A unit placed on that unregistered machine: users read why it stays there.
    await unary(c.createUnit.bind(c), unit("held.service", TargetState.TARGET_STATE_LAUNCHED));
    const placed = await unary(c.applySchedule.bind(c), {
      candidateId: "engine-s",
      fence: lead.fence,
      placements: [{ unitName: "held.service", machineId: machineId(7), reason: "least-loaded eligible machine" }],
      absentMachines: [],
    });
    const held = await unary(c.getUnit.bind(c), { name: "held.service", minRevision: placed.revision });
    expect(held.placement).toEqual({ unitName: "held.service", machineId: machineId(7), reason: unresponsiveMachineReason(machineId(7), "held") });
    const listed = await unary(c.listUnits.bind(c), { minRevision: placed.revision, offset: 0, limit: 0 });
    expect(listed.placements.find((p) => p.unitName === "held.service")?.reason).toBe(unresponsiveMachineReason(machineId(7), "held"));
    await unary(c.destroyUnit.bind(c), { name: "held.service" });
    const cleared = await unary(c.reportEngineStatus.bind(c), { candidateId: "engine-s", fence: lead.fence, status: { massLoss: "", heldMachines: [] } });
    expect((await unary(c.listMachines.bind(c), { minRevision: cleared.revision })).engineStatus).toEqual({ massLoss: "", heldMachines: [] });
    await unary(c.resignLeadership.bind(c), { candidateId: "engine-s", leaseId: lead.leaseId, fence: lead.fence });
  });

  it("WatchCluster brings a replica to every revision, also one that changes nothing it holds (the leader key)", async () => {
    const got: Array<{ revision: number; empty: boolean }> = [];
    const call = c.watchCluster({ minRevision: 0, withStates: false });
    call.on("data", (m: { revision: number; snapshot: boolean; units: unknown[]; removedUnits: unknown[]; placements: unknown[]; removedPlacements: unknown[]; machines: unknown[]; removedMachines: unknown[] }) => {
      const empty = [m.units, m.removedUnits, m.placements, m.removedPlacements, m.machines, m.removedMachines].every((a) => a.length === 0);
      got.push({ revision: m.revision, empty: empty && !m.snapshot });
    });
    call.on("error", () => {});
    await waitFor("snapshot", () => got.length >= 1, { timeoutMs: 5000, intervalMs: 10 });
    const hints: number[] = [];
    const sub = fx.natsClient.subscribe(ENGINE_SUBJECT, { callback: (_e, m) => hints.push(decodeHint(m.data)?.revision ?? 0) });
    await fx.natsClient.flush();
    const lead = await unary(c.acquireLeadership.bind(c), { candidateId: "engine-d", ttlSeconds: 10 });
    await unary(c.resignLeadership.bind(c), { candidateId: "engine-d", leaseId: lead.leaseId, fence: lead.fence });
    // The resignation's hint names the revision of the leader key's deletion.
    const deletion = await waitFor("leader hint", () => hints.find((r) => r > lead.fence), { timeoutMs: 5000, intervalMs: 10 });
    const t0 = Date.now();
    await waitFor("the replica to reach the deletion", () => got.some((m) => m.revision >= deletion), { timeoutMs: 5000, intervalMs: 5 });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(got.find((m) => m.revision >= deletion)?.empty).toBe(true);
    sub.unsubscribe();
    call.cancel();
  });
});

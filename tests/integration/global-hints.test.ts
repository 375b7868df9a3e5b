// A global unit's change wakes every agent: the gateway's hint on fleet.hints.machines asks them
// to spread their passes over the time the cluster's machines take at hint_spread_rate. Against
// a real etcd, NATS and gateway (rate 20 machines a second, so that a few machines make a spread).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_MACHINES_SUBJECT, decodeHint, machineSubject, type Hint } from "@fleet/domain";
import { TargetState, unary, type RegistryServiceClient } from "@fleet/wire";
import { waitFor } from "@fleet/launcher";
import { startGatewayFixture, type GatewayFixture } from "./gateway-fixture.js";

let fx: GatewayFixture;
let c: RegistryServiceClient;
beforeAll(async () => {
  fx = await startGatewayFixture({ FLEET_HINT_SPREAD_RATE: "20" });
  c = fx.client;
});
afterAll(async () => {
  await fx?.stop();
});

const machineId = (n: number) => n.toString(16).padStart(32, "0");
const globalUnit = (desiredState: TargetState) => ({
  unit: {
    name: "everywhere.service",
    options: [
      { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
      { section: "X-Fleet", name: "Global", value: "true" },
    ],
    hash: "",
    desiredState,
  },
});

/** Registers machines from..to-1; the revision the gateway's cache must reach to count them. */
async function register(from: number, to: number): Promise<number> {
  let revision = 0;
  for (let n = from; n < to; n++) {
    const reg = await unary(c.registerMachine.bind(c), { machine: { id: machineId(n), publicIp: `10.0.0.${n}`, metadata: {}, version: "", agentEndpoint: "" }, ttlSeconds: 30 });
    revision = Math.max(revision, reg.revision);
  }
  await unary(c.listMachines.bind(c), { minRevision: revision });
  return revision;
}

describe("hints for a global unit", () => {
  it("ask every machine to spread its pass over machines / hint_spread_rate, as the cluster grows", async () => {
    const hints: Hint[] = [];
    const sub = fx.natsClient.subscribe(ALL_MACHINES_SUBJECT, { callback: (_e, m) => void (m.data && hints.push(decodeHint(m.data) ?? { revision: -1, what: "undecodable" })) });
    const mine: Hint[] = [];
    const subMine = fx.natsClient.subscribe(machineSubject(machineId(1)), { callback: (_e, m) => void (m.data && mine.push(decodeHint(m.data) ?? { revision: -1, what: "undecodable" })) });
    await fx.natsClient.flush();

    // Four machines at 20 a second: 200 ms.
    await register(1, 5);
    const created = await unary(c.createUnit.bind(c), globalUnit(TargetState.TARGET_STATE_LAUNCHED));
    const first = await waitFor("the hint of the global unit's creation", () => hints.find((h) => h.revision === created.revision), { timeoutMs: 5000, intervalMs: 20 });
    expect(first).toMatchObject({ what: "unit everywhere.service", spreadMs: 200 });

    // Eight machines: 400 ms for its next change.
    await register(5, 9);
    const changed = await unary(c.setUnitDesiredState.bind(c), { name: "everywhere.service", desiredState: TargetState.TARGET_STATE_INACTIVE });
    const second = await waitFor("the hint of its change", () => hints.find((h) => h.revision === changed.revision), { timeoutMs: 5000, intervalMs: 20 });
    expect(second.spreadMs).toBe(400);

    // A machine's own hint (a plain unit placed on it) is never spread: only it wakes.
    const lead = await unary(c.acquireLeadership.bind(c), { candidateId: "engine-a", ttlSeconds: 5 });
    await unary(c.createUnit.bind(c), { unit: { name: "one.service", options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }], hash: "", desiredState: TargetState.TARGET_STATE_LAUNCHED } });
    const placed = await unary(c.applySchedule.bind(c), { candidateId: "engine-a", fence: lead.fence, placements: [{ unitName: "one.service", machineId: machineId(1), reason: "test" }], absentMachines: [] });
    const own = await waitFor("the machine's own hint", () => mine.find((h) => h.revision === placed.revision), { timeoutMs: 5000, intervalMs: 20 });
    expect(own.what).toBe("schedule one.service");
    expect(own.spreadMs).toBeUndefined();
    sub.unsubscribe();
    subMine.unsubscribe();
  });
});

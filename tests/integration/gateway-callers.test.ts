// A registry-gateway under mutual TLS answers the control plane's identities, and an agent only
// about its own machine (its certificate names its machine id); anyone else nothing.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startEtcd, startNats, waitFor, type EtcdHandle, type NatsHandle } from "@fleet/launcher";
import { channelCredentials, configureTls, FleetError, RegistryServiceClient, unary } from "@fleet/wire";
import { makeCerts, makeClientCert, type TestCerts } from "./certs.js";
import { startService } from "./gateway-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "fleet-gw-callers-"));
const M1 = "1".repeat(32);
const M2 = "2".repeat(32);
let etcd: EtcdHandle;
let nats: NatsHandle;
let gateway: ChildProcess | undefined;
let certs: TestCerts;
let address = "";

function clientAs(cn: string | undefined): RegistryServiceClient {
  const who = cn ? makeClientCert(dir, certs, cn) : undefined;
  configureTls({ certFile: who?.cert ?? "", keyFile: who?.key ?? "", caFile: certs.ca });
  const c = new RegistryServiceClient(address, channelCredentials());
  configureTls({ certFile: "", keyFile: "", caFile: "" });
  return c;
}

async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (err) {
    return err instanceof FleetError ? err.kind : String(err);
  }
}

const machine = (id: string) => ({ machine: { id, publicIp: "10.0.0.1", metadata: {}, version: "", agentEndpoint: "" }, ttlSeconds: 30, instance: "i1" });

beforeAll(async () => {
  certs = makeCerts(dir);
  etcd = await startEtcd({ dir: join(dir, "etcd") });
  nats = await startNats({ dir: join(dir, "nats") });
  address = `127.0.0.1:${await freePort()}`;
  gateway = startService("registry-gateway", {
    FLEET_ETCD_SERVERS: etcd.endpoint,
    FLEET_NATS_SERVERS: nats.url,
    FLEET_GATEWAY_LISTEN: address,
    FLEET_TLS_CERT_FILE: certs.cert,
    FLEET_TLS_KEY_FILE: certs.key,
    FLEET_TLS_CA_FILE: certs.ca,
    FLEET_GATEWAY_AGENT_IDENTITIES: "fleet-agent",
    FLEET_VERBOSITY: "error",
  });
  const api = clientAs("fleet-api");
  await waitFor("gateway to serve", async () => (await unary(api.listMachines.bind(api), { minRevision: 0 }, { deadlineMs: 2000 }), true), { timeoutMs: 20_000 });
  api.close();
});

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((r) => gateway?.once("exit", r));
    gateway.kill("SIGTERM");
    await exited;
  }
  await Promise.all([etcd?.stop(), nats?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("the gateway's callers under mutual TLS", () => {
  it("the control plane may call everything; an agent only for its own machine; a stranger nothing", async () => {
    const api = clientAs("fleet-api");
    const agent = clientAs(M1);
    const stranger = clientAs("mallory");
    const opts = { deadlineMs: 5000 };
    expect(await outcome(unary(api.listUnits.bind(api), { minRevision: 0, offset: 0, limit: 0 }, opts))).toBe("ok");
    expect(await outcome(unary(agent.registerMachine.bind(agent), machine(M1), opts))).toBe("ok");
    expect(await outcome(unary(agent.registerMachine.bind(agent), machine(M2), opts))).toBe("permission-denied");
    expect(await outcome(unary(agent.getMachineSchedule.bind(agent), { machineId: M1, minRevision: 0 }, opts))).toBe("ok");
    expect(await outcome(unary(agent.getMachineSchedule.bind(agent), { machineId: M2, minRevision: 0 }, opts))).toBe("permission-denied");
    expect(await outcome(unary(agent.reportUnitStates.bind(agent), { machineId: M2, leaseId: "1", states: [], removed: [] }, opts))).toBe("permission-denied");
    expect(await outcome(unary(agent.listUnits.bind(agent), { minRevision: 0, offset: 0, limit: 0 }, opts))).toBe("permission-denied");
    expect(await outcome(unary(agent.createUnit.bind(agent), { unit: { name: "x.service", options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }], hash: "", desiredState: 0 } }, opts))).toBe(
      "permission-denied",
    );
    expect(await outcome(unary(stranger.getMachineSchedule.bind(stranger), { machineId: M1, minRevision: 0 }, opts))).toBe("permission-denied");
    const machines = (await unary(api.listMachines.bind(api), { minRevision: 0 }, opts)).machines.map((m) => m.id);
    expect(machines).toEqual([M1]);
    // A heartbeat stream message for another machine ends the stream, PERMISSION_DENIED.
    const stream = agent.machineHeartbeats();
    const ended = new Promise<string>((resolve) => {
      stream.on("error", (err: Error & { code?: number }) => resolve(String(err.code)));
      stream.on("data", () => undefined);
    });
    stream.write({ machineId: M2, leaseId: "1", seq: 1 });
    expect(await ended).toBe("7");
    // So does a state report on it for another machine.
    const reporting = agent.machineHeartbeats();
    const refused = new Promise<string>((resolve) => {
      reporting.on("error", (err: Error & { code?: number }) => resolve(String(err.code)));
      reporting.on("data", () => undefined);
    });
    reporting.write({ machineId: M2, leaseId: "1", seq: 1, report: { states: [], removed: [] } });
    expect(await refused).toBe("7");
    for (const c of [api, agent, stranger]) c.close();
  });

  it("a certificate every agent shares (gateway_agent_identities) makes the agents' calls for any machine, and no other call", async () => {
    const shared = clientAs("fleet-agent");
    const opts = { deadlineMs: 5000 };
    expect(await outcome(unary(shared.registerMachine.bind(shared), machine(M2), opts))).toBe("ok");
    expect(await outcome(unary(shared.getMachineSchedule.bind(shared), { machineId: M1, minRevision: 0 }, opts))).toBe("ok");
    expect(await outcome(unary(shared.listUnits.bind(shared), { minRevision: 0, offset: 0, limit: 0 }, opts))).toBe("permission-denied");
    expect(await outcome(unary(shared.listMachines.bind(shared), { minRevision: 0 }, opts))).toBe("permission-denied");
    shared.close();
  });
});

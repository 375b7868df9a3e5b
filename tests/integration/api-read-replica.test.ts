// The api answers unit reads from its read replica (services/api/src/read-replica.ts), fed by a
// real registry-gateway on a real etcd and NATS. What a user must not notice: a read right after
// the api's own write sees it; writes by others and machines' state reports show up; with the
// gateway gone reads fail as they did without a replica, and once it is back the replica
// catches up on what changed meanwhile.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startEtcd, startNats, waitFor, type EtcdHandle, type NatsHandle } from "@fleet/launcher";
import { connect, FleetError, FleetServiceClient, RegistryServiceClient, TargetState, unary } from "@fleet/wire";
import { startService } from "./gateway-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "fleet-read-replica-"));
let etcd: EtcdHandle;
let nats: NatsHandle;
let gateway: ChildProcess | undefined;
let api: ChildProcess | undefined;
let gatewayAddress = "";
let apiHttp = "";
let fleet: FleetServiceClient;
let registry: RegistryServiceClient;

const M1 = "1".repeat(32);
const options = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
const unitMsg = (name: string) => ({ unit: { name, options, hash: "", desiredState: TargetState.TARGET_STATE_LAUNCHED } });

function startGateway(): void {
  gateway = startService("registry-gateway", { FLEET_ETCD_SERVERS: etcd.endpoint, FLEET_NATS_SERVERS: nats.url, FLEET_GATEWAY_LISTEN: gatewayAddress, FLEET_VERBOSITY: "warn" });
}

async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  await exited;
}

const names = async (): Promise<string[]> => (await unary(fleet.listUnits.bind(fleet), { offset: 0, limit: 0 }, { deadlineMs: 3000 })).units.map((u) => u.unit?.name ?? "");

beforeAll(async () => {
  etcd = await startEtcd({ dir: join(dir, "etcd") });
  nats = await startNats({ dir: join(dir, "nats") });
  gatewayAddress = `127.0.0.1:${await freePort()}`;
  startGateway();
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  api = startService("api", {
    FLEET_GATEWAY_ENDPOINT: gatewayAddress,
    FLEET_API_LISTEN: `127.0.0.1:${grpcPort}`,
    FLEET_API_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    FLEET_API_UNIX_SOCKET: "",
    FLEET_VERBOSITY: "warn",
  });
  apiHttp = `http://127.0.0.1:${httpPort}/fleet/v1`;
  fleet = connect(FleetServiceClient, `127.0.0.1:${grpcPort}`);
  registry = connect(RegistryServiceClient, gatewayAddress);
  await waitFor("api to serve", async () => (await names(), true), { timeoutMs: 20_000 });
});

afterAll(async () => {
  fleet?.close();
  registry?.close();
  await stop(api);
  await stop(gateway);
  await nats?.stop();
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the api's read replica", () => {
  it("a read right after the api's own write sees it, over gRPC and HTTP API v1", async () => {
    for (let i = 0; i < 30; i++) {
      const name = `own-${String(i).padStart(2, "0")}.service`;
      await unary(fleet.createUnit.bind(fleet), unitMsg(name));
      const got = await unary(fleet.getUnit.bind(fleet), { name });
      expect(got.unit?.unit?.name).toBe(name);
      expect(await names()).toContain(name);
      const res = await fetch(`${apiHttp}/units/${name}`);
      expect(res.status).toBe(200);
      await unary(fleet.setUnitTargetState.bind(fleet), { name, desiredState: TargetState.TARGET_STATE_LOADED });
      const page = (await (await fetch(`${apiHttp}/units`)).json()) as { units: Array<{ name: string; desiredState: string }> };
      expect(page.units.find((u) => u.name === name)?.desiredState).toBe("loaded");
    }
    const destroyed = "own-00.service";
    await unary(fleet.destroyUnit.bind(fleet), { name: destroyed });
    expect(await names()).not.toContain(destroyed);
    expect((await fetch(`${apiHttp}/units/${destroyed}`)).status).toBe(404);
  });

  it("units written through the gateway by others and states machines report show up", async () => {
    await unary(registry.createUnit.bind(registry), unitMsg("other.service"));
    await waitFor("another writer's unit in the api's list", async () => (await names()).includes("other.service"), { timeoutMs: 2000, intervalMs: 10 });

    const reg = await unary(registry.registerMachine.bind(registry), { machine: { id: M1, publicIp: "10.0.0.1", metadata: {}, version: "", agentEndpoint: "" }, ttlSeconds: 30 });
    const state = { name: "other.service", hash: "", machineId: M1, loadState: "loaded", activeState: "active", subState: "running", currentState: TargetState.TARGET_STATE_LAUNCHED, reason: "" };
    await unary(registry.reportUnitStates.bind(registry), { machineId: M1, leaseId: reg.leaseId, states: [state], removed: [] });
    await waitFor(
      "the reported state in the api's ListUnitStates",
      async () => (await unary(fleet.listUnitStates.bind(fleet), { unitNames: ["other.service"], machineId: "" })).states.some((s) => s.activeState === "active"),
      { timeoutMs: 2000, intervalMs: 10 },
    );
    const byMachine = (await (await fetch(`${apiHttp}/state?machineID=${M1}`)).json()) as { states: Array<{ name: string; systemdActiveState: string }> };
    expect(byMachine.states).toEqual([expect.objectContaining({ name: "other.service", systemdActiveState: "active" })]);

    await unary(registry.reportUnitStates.bind(registry), { machineId: M1, leaseId: reg.leaseId, states: [], removed: ["other.service"] });
    await waitFor(
      "the removed state gone from the api's ListUnitStates",
      async () => (await unary(fleet.listUnitStates.bind(fleet), { unitNames: ["other.service"], machineId: "" })).states.length === 0,
      { timeoutMs: 2000, intervalMs: 10 },
    );
  });

  it("with the gateway gone reads fail as UNAVAILABLE; once it is back the replica has what changed meanwhile", async () => {
    await stop(gateway, "SIGKILL");
    // A read in the moment before the api hears its stream break may still be answered from the
    // replica; reads fail as soon as it has.
    let failed = "answered";
    await waitFor(
      "reads to fail without a gateway",
      async () => {
        failed = await unary(fleet.listUnits.bind(fleet), { offset: 0, limit: 0 }, { deadlineMs: 3000 }).then(
          () => "answered",
          (err: unknown) => (err instanceof FleetError ? err.kind : String(err)),
        );
        return failed !== "answered";
      },
      { timeoutMs: 2000, intervalMs: 20 },
    );
    expect(["unavailable", "deadline-exceeded"]).toContain(failed);

    // A change the api could not hear of: written while its gateway was away.
    const direct = connect(RegistryServiceClient, gatewayAddress);
    startGateway();
    try {
      await waitFor("the gateway back", async () => (await unary(direct.createUnit.bind(direct), unitMsg("meanwhile.service"), { deadlineMs: 500 }), true), { timeoutMs: 20_000, intervalMs: 50 });
      await waitFor("the api's list with the unit written meanwhile", async () => (await names()).includes("meanwhile.service"), { timeoutMs: 10_000, intervalMs: 50 });
      await unary(fleet.createUnit.bind(fleet), unitMsg("after.service"));
      expect(await names()).toContain("after.service");
    } finally {
      direct.close();
    }
  });
});

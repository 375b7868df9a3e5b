// What an operator's tools see of a running control plane: Prometheus metrics with fleet_
// series on each process's metrics_listen, /healthz and /readyz, grpc.health.v1 on the gRPC
// servers (NOT_SERVING while the api has no gateway), and server reflection on the api and the
// gateway (so grpcurl needs no -proto flags).
import { createRequire } from "node:module";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { credentials, loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "@fleet/launcher";
import { connect, FleetServiceClient, unary } from "@fleet/wire";
import { startApiStack, stopChild, type ApiStack } from "../api-fixture.js";
import { startService } from "../gateway-fixture.js";

const require = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "fleet-ops-"));
let stack: ApiStack;
let engine: ChildProcess;
const metrics: Record<"gateway" | "api" | "engine", string> = { gateway: "", api: "", engine: "" };

const get = async (url: string): Promise<{ status: number; text: string }> => {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
};

/** A client of a service loaded from a .proto file with proto-loader, as a third party would. */
function clientOf(protoFile: string, includeDir: string, pkgPath: string[], service: string, address: string) {
  const pkg = loadPackageDefinition(loadSync(protoFile, { includeDirs: [includeDir], keepCase: true, enums: String, longs: String, defaults: true }));
  let node: GrpcObject = pkg;
  for (const part of pkgPath) node = node[part] as GrpcObject;
  const Ctor = node[service] as ServiceClientConstructor;
  return new Ctor(address, credentials.createInsecure());
}

function healthCheck(address: string, service: string): Promise<string> {
  const protoFile = join(dirname(require.resolve("grpc-health-check/package.json")), "proto/health/v1/health.proto");
  const client = clientOf(protoFile, dirname(protoFile), ["grpc", "health", "v1"], "Health", address);
  return new Promise((resolve) => {
    client.check?.({ service }, { deadline: Date.now() + 3000 }, (err: Error | null, res: { status: string } | undefined) => {
      client.close();
      resolve(err ? `error: ${err.message}` : (res?.status ?? ""));
    });
  });
}

function reflectedServices(address: string): Promise<string[]> {
  const protoFile = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto/grpc/reflection/v1/reflection.proto");
  const client = clientOf(protoFile, dirname(protoFile), ["grpc", "reflection", "v1"], "ServerReflection", address);
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo?.();
    if (!call) throw new Error("no ServerReflectionInfo in the reflection proto");
    call.on("data", (res: { list_services_response?: { service: Array<{ name: string }> } }) => {
      resolve((res.list_services_response?.service ?? []).map((s) => s.name).sort());
      call.end();
      client.close();
    });
    call.on("error", reject);
    call.write({ list_services: "" });
  });
}

beforeAll(async () => {
  const [gw, api, eng] = await Promise.all([freePort(), freePort(), freePort()]);
  metrics.gateway = `http://127.0.0.1:${gw}`;
  metrics.api = `http://127.0.0.1:${api}`;
  metrics.engine = `http://127.0.0.1:${eng}`;
  stack = await startApiStack(dir, { gateway: { FLEET_METRICS_LISTEN: `127.0.0.1:${gw}` }, api: { FLEET_METRICS_LISTEN: `127.0.0.1:${api}` } });
  engine = startService("engine", {
    FLEET_GATEWAY_ENDPOINT: stack.gatewayAddress,
    FLEET_NATS_SERVERS: stack.nats.url,
    FLEET_METRICS_LISTEN: `127.0.0.1:${eng}`,
    FLEET_ENGINE_RECONCILE_INTERVAL: "1",
    FLEET_VERBOSITY: "warn",
  });
  for (const url of Object.values(metrics)) {
    await waitFor(`${url}/readyz`, async () => (await get(`${url}/readyz`).catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 30_000, intervalMs: 200 });
  }
});

afterAll(async () => {
  await stopChild(engine);
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("metrics, probes, health and reflection", () => {
  it("serves /healthz, /readyz and Prometheus text on every process, and a clear 404 elsewhere", async () => {
    for (const [name, url] of Object.entries(metrics)) {
      expect(await get(`${url}/healthz`), name).toEqual({ status: 200, text: "ok\n" });
      expect(await get(`${url}/readyz`), name).toEqual({ status: 200, text: "ready\n" });
      const m = await get(`${url}/metrics`);
      expect(m.status).toBe(200);
      expect(m.text).toMatch(new RegExp(`^fleet_build_info\\{service="${name === "gateway" ? "registry-gateway" : name}",version="[^"]+",node_version="[^"]+"\\} 1$`, "m"));
      expect(m.text).toContain("fleet_process_cpu_seconds_total");
    }
    expect(await get(`${metrics.api}/nothing`)).toEqual({ status: 404, text: "no /nothing here: /metrics, /healthz and /readyz\n" });
  });

  it("counts RPCs by method and code, etcd operations, units by state, and the engine's rounds and placements", async () => {
    const api = connect(FleetServiceClient, stack.grpcAddress);
    const options = [{ section: "Service", name: "ExecStart", value: "/bin/true" }];
    await unary(api.createUnit.bind(api), { unit: { name: "m.service", options, hash: "", desiredState: 3 } }, { deadlineMs: 10_000 });
    await unary(api.getUnit.bind(api), { name: "nope.service" }, { deadlineMs: 10_000 }).catch(() => undefined);
    api.close();
    const apiText = (await get(`${metrics.api}/metrics`)).text;
    expect(apiText).toMatch(/^fleet_grpc_server_handled_total\{service="fleet\.v1\.FleetService",method="CreateUnit",code="OK"\} 1$/m);
    expect(apiText).toMatch(/^fleet_grpc_server_handled_total\{service="fleet\.v1\.FleetService",method="GetUnit",code="NOT_FOUND"\} 1$/m);
    expect(apiText).toMatch(/^fleet_grpc_server_handling_seconds_count\{service="fleet\.v1\.FleetService",method="CreateUnit"\} 1$/m);
    const gatewayText = (await get(`${metrics.gateway}/metrics`)).text;
    expect(gatewayText).toMatch(/^fleet_etcd_operations_total\{operation="txn-[a-z]+",outcome="ok"\} \d+$/m);
    expect(gatewayText).toMatch(/^fleet_units\{state="launched"\} 1$/m);
    expect(gatewayText).toMatch(/^fleet_hints_sent_total\{kind="engine"\} \d+$/m);
    // No machine: the engine's round finds none for the unit.
    await waitFor(
      "the engine to count a round",
      async () => /^fleet_engine_reconcile_rounds_total\{result="[a-z-]+"\} [1-9]/m.test((await get(`${metrics.engine}/metrics`)).text),
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    const engineText = (await get(`${metrics.engine}/metrics`)).text;
    expect(engineText).toMatch(/^fleet_engine_leader 1$/m);
    expect(engineText).toMatch(/^fleet_engine_replica_synced 1$/m);
    expect(engineText).toMatch(/^fleet_engine_placements_total\{kind="unplaceable"\} 1$/m);
    expect((await get(`${metrics.gateway}/metrics`)).text).toMatch(/^fleet_units_unplaceable 1$/m);
    expect(engineText).toMatch(/^fleet_hints_received_total\{kind="engine"\} \d+$/m);
  });

  it("answers grpc.health.v1 for each server and service, and reflection lists the services", async () => {
    // Health follows readiness within a moment.
    await waitFor("api SERVING", async () => (await healthCheck(stack.grpcAddress, "")) === "SERVING", { timeoutMs: 5000, intervalMs: 100 });
    expect(await healthCheck(stack.grpcAddress, "fleet.v1.FleetService")).toBe("SERVING");
    expect(await healthCheck(stack.gatewayAddress, "fleet.internal.v1.RegistryService")).toBe("SERVING");
    expect(await healthCheck(stack.grpcAddress, "no.such.Service")).toMatch(/^error: 5 NOT_FOUND/);
    // The api shows the public API only; the gateway its internal services too.
    const api = await reflectedServices(stack.grpcAddress);
    expect(api).toEqual(expect.arrayContaining(["fleet.v1.FleetService", "grpc.health.v1.Health"]));
    expect(api.filter((s) => s.startsWith("fleet.internal."))).toEqual([]);
    expect(await reflectedServices(stack.gatewayAddress)).toEqual(expect.arrayContaining(["fleet.internal.v1.RegistryService", "fleet.internal.v1.AgentService", "fleet.v1.FleetService"]));
  });

  it("with its gateway gone the api is not ready (503 with the reason, NOT_SERVING) and is again once it is back", async () => {
    await stopChild(stack.gateway);
    await waitFor("api /readyz 503", async () => (await get(`${metrics.api}/readyz`)).status === 503, { timeoutMs: 20_000, intervalMs: 200 });
    expect((await get(`${metrics.api}/readyz`)).text).toBe("not ready: not following a registry-gateway's cluster stream\n");
    expect(await get(`${metrics.api}/healthz`)).toEqual({ status: 200, text: "ok\n" });
    await waitFor("api NOT_SERVING", async () => (await healthCheck(stack.grpcAddress, "")) === "NOT_SERVING", { timeoutMs: 5000, intervalMs: 200 });
    const gateway = startService("registry-gateway", {
      FLEET_ETCD_SERVERS: stack.etcd.endpoint,
      FLEET_NATS_SERVERS: stack.nats.url,
      FLEET_GATEWAY_LISTEN: stack.gatewayAddress,
      FLEET_METRICS_LISTEN: metrics.gateway.replace("http://", ""),
      FLEET_VERBOSITY: "warn",
    });
    try {
      await waitFor("api ready again", async () => (await get(`${metrics.api}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 250 });
      await waitFor("api SERVING", async () => (await healthCheck(stack.grpcAddress, "")) === "SERVING", { timeoutMs: 5000, intervalMs: 200 });
      expect((await get(`${metrics.gateway}/readyz`)).status).toBe(200);
    } finally {
      await stopChild(gateway);
    }
  });
});

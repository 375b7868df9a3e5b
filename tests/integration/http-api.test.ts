// HTTP API v1 of a real api process, on a real gateway, etcd and NATS: fleet's JSON and status
// codes end to end, bad input changing nothing, metadata PATCHes outliving a machine's
// re-registration, the unix socket, and fleetctl's HTTP client against it.
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "@fleet/launcher";
import { decodeHint, machineSubject } from "@fleet/domain";
import { connect, FleetServiceClient, TargetState, unary } from "@fleet/wire";
import { httpFleetApi } from "fleetctl";
import { startGatewayFixture, startService, type GatewayFixture } from "./gateway-fixture.js";

let fx: GatewayFixture;
let api: ChildProcess;
let base = "";
let grpcAddress = "";
const dir = mkdtempSync(join(tmpdir(), "fleet-http-it-"));
const socket = join(dir, "fleet.sock");
const M1 = "1".repeat(32);
const options = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];

beforeAll(async () => {
  fx = await startGatewayFixture();
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  api = startService("api", {
    FLEET_GATEWAY_ENDPOINT: fx.gatewayAddress,
    FLEET_API_LISTEN: `127.0.0.1:${grpcPort}`,
    FLEET_API_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    FLEET_API_UNIX_SOCKET: socket,
    FLEET_TOKEN_LIMIT: "2",
    FLEET_VERBOSITY: "warn",
  });
  base = `http://127.0.0.1:${httpPort}/fleet/v1`;
  grpcAddress = `127.0.0.1:${grpcPort}`;
  await waitFor("HTTP API v1 to serve", async () => (await fetch(`${base}/units`)).ok, { timeoutMs: 20_000 });
});

afterAll(async () => {
  if (api && api.exitCode === null) {
    api.kill("SIGTERM");
    await new Promise((r) => api.once("exit", r));
  }
  await fx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe("units over HTTP", () => {
  it("creates a unit with PUT (201) and reads it back with fleet's fields", async () => {
    expect((await call("PUT", "/units/web.service", { desiredState: "loaded", options })).status).toBe(201);
    expect(await call("GET", "/units/web.service")).toEqual({
      status: 200,
      body: { currentState: "inactive", desiredState: "loaded", name: "web.service", options: [{ name: "ExecStart", section: "Service", value: "/bin/sleep infinity" }] },
    });
  });

  it("changes the desired state (204), visible to gRPC clients of the gateway", async () => {
    expect((await call("PUT", "/units/web.service", { desiredState: "launched" })).status).toBe(204);
    const got = await unary(fx.client.getUnit.bind(fx.client), { name: "web.service", minRevision: 0 });
    expect(got.unit?.desiredState).toBe(TargetState.TARGET_STATE_LAUNCHED);
  });

  it("refuses bad input with fleet's codes, and the registry is unchanged", async () => {
    const before = await call("GET", "/units");
    const cases: Array<[string, string, unknown, number]> = [
      ["PUT", "/units/web.service", "{oops", 400],
      ["PUT", "/units/web.service", { desiredState: "running" }, 400],
      ["PUT", "/units/web.service", { desiredState: 1 }, 400],
      ["PUT", "/units/web.service", { name: "other.service", desiredState: "inactive" }, 400],
      ["PUT", "/units/bad", { options }, 400],
      ["PUT", "/units/new.service", { desiredState: "launched" }, 409],
      ["PUT", "/units/web.service", { options }, 409],
      ["PUT", "/units/new.service", { options: [{ section: "Service", name: "Exec Start", value: "x" }] }, 400],
      ["PUT", "/units/big.service", { options: [{ section: "Service", name: "ExecStart", value: "x".repeat(2 * 1024 * 1024) }] }, 413],
      ["POST", "/units", {}, 405],
      ["DELETE", "/units/nope.service", undefined, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await call(method, path, body);
      expect({ method, path, status: r.status }).toEqual({ method, path, status });
      expect(r.body).toMatchObject({ error: { code: status } });
    }
    expect(await call("GET", "/units")).toEqual(before);
  });

  it("pages by token_limit and refuses a bad token", async () => {
    for (const n of ["a", "b"]) expect((await call("PUT", `/units/${n}.service`, { options })).status).toBe(201);
    const first = (await call("GET", "/units")).body as { units: { name: string }[]; nextPageToken: string };
    expect(first.units.map((u) => u.name)).toEqual(["a.service", "b.service"]);
    const second = (await call("GET", `/units?nextPageToken=${first.nextPageToken}`)).body as { units: { name: string }[] };
    expect(second.units.map((u) => u.name)).toEqual(["web.service"]);
    expect((await call("GET", "/units?nextPageToken=bogus")).status).toBe(400);
  });

  it("destroys with DELETE (204), then 404", async () => {
    expect((await call("DELETE", "/units/a.service")).status).toBe(204);
    expect((await call("GET", "/units/a.service")).status).toBe(404);
  });
});

describe("replacing a unit over HTTP, as fleet 1.0 (PUT of other options)", () => {
  const sleep = (n: number) => [{ section: "Service", name: "ExecStart", value: `/bin/sleep ${n}` }];
  const M9 = "9".repeat(32);

  it("issue 9's repro: the second PUT (sleep 2, loaded) is a 201 and GET shows the new contents; the placement is kept and the machine is hinted", async () => {
    const c = fx.client;
    expect((await call("PUT", "/units/rep.service", { desiredState: "inactive", options: sleep(1) })).status).toBe(201);
    // Placed on M9 by an engine (this test plays the leader).
    const lead = await unary(c.acquireLeadership.bind(c), { candidateId: "it-engine", ttlSeconds: 30 });
    await unary(c.applySchedule.bind(c), { candidateId: "it-engine", fence: lead.fence, placements: [{ unitName: "rep.service", machineId: M9, reason: "test" }], absentMachines: [] });
    const hints: string[] = [];
    const sub = fx.natsClient.subscribe(machineSubject(M9), { callback: (_e, m) => hints.push(decodeHint(m.data)?.what ?? "") });
    await fx.natsClient.flush();

    expect((await call("PUT", "/units/rep.service", { desiredState: "loaded", options: sleep(2) })).status).toBe(201);
    expect((await call("GET", "/units/rep.service")).body).toMatchObject({ desiredState: "loaded", machineID: M9, options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep 2" }] });
    // What the agent of M9 reads: the new contents, still its unit.
    const schedule = await unary(c.getMachineSchedule.bind(c), { machineId: M9, minRevision: 0 });
    expect(schedule.units.map((u) => [u.name, u.options[0]?.value])).toEqual([["rep.service", "/bin/sleep 2"]]);
    await waitFor("M9 hinted of the replaced unit", () => hints.includes("unit rep.service"), { timeoutMs: 5000, intervalMs: 20 });
    sub.unsubscribe();
    await unary(c.resignLeadership.bind(c), { candidateId: "it-engine", leaseId: lead.leaseId, fence: lead.fence });
  });

  it("the same options: 409 without a desired state, 204 with one; other options without a desired state: 201, inactive", async () => {
    expect(await call("PUT", "/units/rep.service", { options: sleep(2) })).toEqual({
      status: 409,
      body: { error: { code: 409, message: "must provide DesiredState to update existing unit" } },
    });
    expect((await call("PUT", "/units/rep.service", { desiredState: "launched", options: sleep(2) })).status).toBe(204);
    expect((await call("GET", "/units/rep.service")).body).toMatchObject({ desiredState: "launched" });
    expect((await call("PUT", "/units/rep.service", { options: sleep(3) })).status).toBe(201);
    expect((await call("GET", "/units/rep.service")).body).toMatchObject({ desiredState: "inactive", options: [{ value: "/bin/sleep 3" }] });
  });

  it("a replacement the registry refuses changes nothing", async () => {
    const before = await call("GET", "/units/rep.service");
    const bad = [...sleep(4), { section: "X-Fleet", name: "MachineID", value: M9 }, { section: "X-Fleet", name: "Global", value: "true" }];
    expect((await call("PUT", "/units/rep.service", { desiredState: "launched", options: bad })).status).toBe(400);
    expect((await call("PUT", "/units/tpl@.service", { options: sleep(1) })).status).toBe(201);
    expect((await call("PUT", "/units/tpl@.service", { desiredState: "launched", options: sleep(2) })).body).toEqual({ error: { code: 400, message: 'cannot activate template "tpl@.service"' } });
    expect(await call("GET", "/units/rep.service")).toEqual(before);
    expect((await call("DELETE", "/units/tpl@.service")).status).toBe(204);
  });

  it("FleetService.ReplaceUnit (fleetctl --replace) says what it did", async () => {
    const grpc = connect(FleetServiceClient, grpcAddress);
    try {
      const unit = (n: number) => ({ name: "rep.service", options: sleep(n), hash: "", desiredState: TargetState.TARGET_STATE_LOADED });
      expect(await unary(grpc.replaceUnit.bind(grpc), { unit: unit(5) })).toMatchObject({ created: false, replaced: true });
      expect(await unary(grpc.replaceUnit.bind(grpc), { unit: unit(5) })).toMatchObject({ created: false, replaced: false });
      expect(await unary(grpc.replaceUnit.bind(grpc), { unit: { ...unit(5), name: "fresh.service" } })).toMatchObject({ created: true, replaced: false });
      expect((await call("GET", "/units/rep.service")).body).toMatchObject({ desiredState: "loaded", options: [{ value: "/bin/sleep 5" }] });
    } finally {
      grpc.close();
    }
    for (const name of ["rep.service", "fresh.service"]) expect((await call("DELETE", `/units/${name}`)).status).toBe(204);
  });

  it("names this server in a Server header, as fleetd did", async () => {
    const res = await fetch(`${base}/units`);
    expect(res.headers.get("server")).toMatch(/^fleet-api\/\d+\.\d+\.\d+/);
  });
});

describe("machines and states over HTTP", () => {
  it("lists a registered machine and the states its agent reports, with filters", async () => {
    const c = fx.client;
    const { leaseId } = await unary(c.registerMachine.bind(c), { machine: { id: M1, publicIp: "10.1.0.1", metadata: { region: "east" }, version: "", agentEndpoint: "" }, ttlSeconds: 30 });
    await unary(c.reportUnitStates.bind(c), {
      machineId: M1,
      leaseId,
      states: [{ name: "web.service", hash: "h", machineId: M1, loadState: "loaded", activeState: "active", subState: "running", currentState: TargetState.TARGET_STATE_LAUNCHED, reason: "" }],
      removed: [],
    });
    await waitFor("machine listed", async () => ((await call("GET", "/machines")).body as { machines?: unknown[] }).machines?.length === 1, { timeoutMs: 5000 });
    expect((await call("GET", "/machines")).body).toEqual({ machines: [{ id: M1, metadata: { region: "east" }, primaryIP: "10.1.0.1" }] });
    const state = { hash: "h", machineID: M1, name: "web.service", systemdActiveState: "active", systemdLoadState: "loaded", systemdSubState: "running" };
    expect((await call("GET", "/state")).body).toEqual({ states: [state] });
    expect((await call("GET", `/state?machineID=${M1}&unitName=web.service`)).body).toEqual({ states: [state] });
    expect((await call("GET", "/state?unitName=b.service")).body).toEqual({});
  });

  it("PATCHes metadata; a bad patch changes nothing; the change outlives re-registration", async () => {
    expect((await call("PATCH", "/machines", [{ op: "add", path: `/${M1}/metadata/disk`, value: "ssd" }, { op: "remove", path: `/${M1}/metadata/region` }])).status).toBe(204);
    expect((await call("PATCH", "/machines", [{ op: "add", path: `/${M1}/metadata/gpu`, value: "yes" }, { op: "add", path: `/${M1}/metadata/x` }])).status).toBe(400);
    expect((await call("GET", "/machines")).body).toEqual({ machines: [{ id: M1, metadata: { disk: "ssd" }, primaryIP: "10.1.0.1" }] });
    const c = fx.client;
    await unary(c.registerMachine.bind(c), { machine: { id: M1, publicIp: "10.1.0.1", metadata: { region: "east" }, version: "", agentEndpoint: "" }, ttlSeconds: 30 });
    await waitFor("re-registered", async () => JSON.stringify((await call("GET", "/machines")).body).includes("disk"), { timeoutMs: 5000 });
    expect((await call("GET", "/machines")).body).toEqual({ machines: [{ id: M1, metadata: { disk: "ssd" }, primaryIP: "10.1.0.1" }] });
  });

  it("PATCH takes fleet 1.0's body shape; a machine never seen is a 204 and gets the metadata when it registers", async () => {
    const M8 = "8".repeat(32);
    expect((await call("PATCH", "/machines", [{ op: "add", path: `/${M8}/metadata/role`, value: { value: "web" } }])).status).toBe(204);
    expect(JSON.stringify((await call("GET", "/machines")).body)).not.toContain(M8);
    const c = fx.client;
    await unary(c.registerMachine.bind(c), { machine: { id: M8, publicIp: "10.1.0.8", metadata: { region: "west" }, version: "", agentEndpoint: "" }, ttlSeconds: 1 });
    await waitFor("M8 listed", async () => JSON.stringify((await call("GET", "/machines")).body).includes(M8), { timeoutMs: 5000 });
    const listed = ((await call("GET", "/machines")).body as { machines: { id: string; metadata?: Record<string, string> }[] }).machines;
    expect(listed.find((m) => m.id === M8)?.metadata).toEqual({ region: "west", role: "web" });
    // Its 1 s lease lapses: the tests after this one see M1 alone again.
    await waitFor("M8 gone", async () => !JSON.stringify((await call("GET", "/machines")).body).includes(M8), { timeoutMs: 10_000, intervalMs: 200 });
  });
});

describe("the unix socket and fleetctl's HTTP client", () => {
  it("serves the same API on the unix socket", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: socket, path: "/fleet/v1/units/web.service" }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end();
    });
    expect(JSON.parse(body)).toMatchObject({ name: "web.service", desiredState: "launched" });
  });

  it("fleetctl's HTTP API v1 client creates, reads, lists and destroys", async () => {
    const client = httpFleetApi({ kind: "http-unix", socketPath: socket }, 5000);
    try {
      await client.createUnit({ name: "cli.service", options, hash: "", desiredState: "inactive" });
      await client.setUnitTargetState("cli.service", "loaded");
      expect((await client.getUnit("cli.service"))?.unit.desiredState).toBe("loaded");
      // --replace over HTTP: a PUT of other options replaces the unit (201), the same ones only set the state (204).
      const other = [{ section: "Service", name: "ExecStart", value: "/bin/sleep 7" }];
      await client.replaceUnit?.({ name: "cli.service", options: other, hash: "", desiredState: "launched" });
      expect((await client.getUnit("cli.service"))?.unit).toMatchObject({ options: other, desiredState: "launched" });
      await client.replaceUnit?.({ name: "cli.service", options: other, hash: "", desiredState: "loaded" });
      expect((await client.getUnit("cli.service"))?.unit).toMatchObject({ options: other, desiredState: "loaded" });
      expect((await client.listUnits()).map((u) => u.unit.name)).toEqual(["b.service", "cli.service", "web.service"]);
      expect((await client.listMachines()).map((m) => m.id)).toEqual([M1]);
      expect(await client.destroyUnit("cli.service")).toBe(true);
      expect(await client.getUnit("cli.service")).toBeUndefined();
    } finally {
      client.close();
    }
  });
});

describe("the api's gRPC streams", () => {
  /** The stream's messages until it ends, and how it ended. */
  function drain<T>(call: NodeJS.EventEmitter): Promise<{ messages: T[]; code: number | undefined }> {
    const messages: T[] = [];
    return new Promise((resolve) => {
      call.on("data", (m: T) => messages.push(m));
      call.on("error", (err: { code?: number }) => resolve({ messages, code: err.code }));
      call.on("end", () => resolve({ messages, code: 0 }));
    });
  }

  it("ends a journal it cannot serve with its status, not by leaving the client waiting", async () => {
    const client = connect(FleetServiceClient, grpcAddress);
    try {
      const { code } = await drain(client.journal({ unitName: "nowhere.service", lines: 10, follow: false, output: "short" }));
      expect(code).toBe(5); // NOT_FOUND
    } finally {
      client.close();
    }
  });

  it("WatchUnits sends the units as they are, then their changes; refuses a bad name", async () => {
    const client = connect(FleetServiceClient, grpcAddress);
    try {
      const seen: string[] = [];
      const watch = client.watchUnits({ names: ["watched.service"] });
      watch.on("data", (m: { units: Array<{ unit?: { name: string; desiredState: number } }>; missing: string[] }) => {
        for (const u of m.units) seen.push(`${u.unit?.name}:${u.unit?.desiredState}`);
        for (const n of m.missing) seen.push(`${n}:missing`);
      });
      watch.on("error", () => {});
      await waitFor("the first message", () => seen.length === 1, { timeoutMs: 5000, intervalMs: 10 });
      expect((await call("PUT", "/units/watched.service", { desiredState: "loaded", options })).status).toBe(201);
      await waitFor("the creation", () => seen.length === 2, { timeoutMs: 5000, intervalMs: 10 });
      watch.cancel();
      expect(seen).toEqual(["watched.service:missing", `watched.service:${TargetState.TARGET_STATE_LOADED}`]);
      expect((await call("DELETE", "/units/watched.service")).status).toBe(204);

      const { code } = await drain(client.watchUnits({ names: ["bad name.service"] }));
      expect(code).toBe(3); // INVALID_ARGUMENT
    } finally {
      client.close();
    }
  });
});

// Clients against in-process RegistryService servers on loopback: failover between listed
// endpoints (host names included), waiting for a server that is not up yet, and what a failed
// write says about its outcome.
import { createServer, type AddressInfo } from "node:net";
import { Server, ServerCredentials, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { connect, connectEndpoints, unary, unaryWrite } from "./client.js";
import { FleetError } from "./errors.js";
import { RegistryServiceClient, RegistryServiceService } from "./gen/fleet/internal/v1/registry.pb.js";
import { REGISTRY_RETRIED_METHODS } from "./registry-connection.js";
import { createLogger } from "./logger.js";
import { unaryHandler } from "./server.js";

const log = createLogger("test", "error");
const servers: Server[] = [];
const clients: RegistryServiceClient[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) s.forceShutdown();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A gateway stand-in named `name`: ListMachines answers one machine with that id. */
async function gateway(name: string, port: number, createUnit?: UntypedServiceImplementation[string]): Promise<Server> {
  const server = new Server();
  const impl: UntypedServiceImplementation = {
    listMachines: unaryHandler(log, "ListMachines", async () => ({ machines: [{ id: name, publicIp: "", metadata: {}, version: "", agentEndpoint: "" }], revision: 1 })),
    ...(createUnit ? { createUnit } : {}),
  };
  server.addService(RegistryServiceService, impl);
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  servers.push(server);
  return server;
}

function client(endpoints: string[]): RegistryServiceClient {
  const c = connectEndpoints(RegistryServiceClient, endpoints, { waitForReady: true, retriedMethods: REGISTRY_RETRIED_METHODS });
  clients.push(c);
  return c;
}

async function whoAnswers(c: RegistryServiceClient, deadlineMs = 2000): Promise<string> {
  const res = await unary(c.listMachines.bind(c), { minRevision: 0 }, { deadlineMs });
  return res.machines[0]?.id ?? "";
}

const unit = { unit: { name: "a.service", options: [], hash: "", desiredState: 0 } };

describe("connectEndpoints", () => {
  it("fails over to the other endpoint, named by host name, when the one in use goes away", async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const named = { [`localhost:${p1}`]: "g1", [`127.0.0.1:${p2}`]: "g2" };
    const running = new Map([
      ["g1", await gateway("g1", p1)],
      ["g2", await gateway("g2", p2)],
    ]);
    const c = client(Object.keys(named));
    const first = await whoAnswers(c);
    expect(["g1", "g2"]).toContain(first);
    running.get(first)?.forceShutdown();
    const started = Date.now();
    const second = await whoAnswers(c);
    expect(second).not.toBe(first);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("with every endpoint down, waits for one within the deadline (and keeps the process responsive), then uses it", async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    for (const endpoints of [[`127.0.0.1:${p1}`, `127.0.0.1:${p2}`], [`localhost:${p1}`, `localhost:${p2}`]]) {
      const c = client(endpoints);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 50);
      const err = await whoAnswers(c, 700).catch((e: unknown) => e);
      clearInterval(ticker);
      expect(err).toMatchObject({ kind: "deadline-exceeded" });
      expect(ticks).toBeGreaterThan(5);
    }
    const c = client([`localhost:${p1}`, `127.0.0.1:${p2}`]);
    const answer = whoAnswers(c, 5000);
    await new Promise((r) => setTimeout(r, 1200));
    await gateway("second", p2);
    expect(await answer).toBe("second");
  });

  it("waits for a server that comes up within the deadline instead of failing at once", async () => {
    const port = await freePort();
    const c = client([`127.0.0.1:${port}`]);
    const answer = whoAnswers(c, 5000);
    await new Promise((r) => setTimeout(r, 400));
    await gateway("late", port);
    expect(await answer).toBe("late");
  });
});

describe("unaryWrite", () => {
  it("says a write may have been applied when the connection is lost after it was sent", async () => {
    const port = await freePort();
    let received!: () => void;
    const arrived = new Promise<void>((r) => (received = r));
    const server = await gateway("g", port, () => received());
    const c = client([`127.0.0.1:${port}`]);
    const write = unaryWrite(c.createUnit.bind(c), unit, { what: "creating unit a.service", service: "the registry-gateway", deadlineMs: 5000 });
    await arrived;
    server.forceShutdown();
    const err = await write.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect(err).toMatchObject({ outcome: "unknown", kind: "unavailable" });
    // A server shutting down resets its streams (CANCELLED); a process that dies drops the
    // connection (UNAVAILABLE): the same for the write.
    expect((err as Error).message).toMatch(/^creating unit a\.service may have been applied: the (connection|call) to the registry-gateway \(127\.0\.0\.1:\d+\) (was lost|was cancelled) before its answer/);
  });

  it("says a write may have been applied when its deadline passes after it was sent", async () => {
    const port = await freePort();
    await gateway("g", port, () => undefined);
    const c = client([`127.0.0.1:${port}`]);
    const err = await unaryWrite(c.createUnit.bind(c), unit, { what: "creating unit a.service", service: "the registry-gateway", deadlineMs: 300 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ outcome: "unknown", kind: "deadline-exceeded" });
    expect((err as Error).message).toMatch(/^creating unit a\.service may have been applied: no answer from the registry-gateway \(127\.0\.0\.1:\d+\) before the deadline$/);
  });

  it("says nothing was sent when there was no connection to send it on", async () => {
    const port = await freePort();
    const c = connect(RegistryServiceClient, `127.0.0.1:${port}`);
    clients.push(c);
    const err = await unaryWrite(c.createUnit.bind(c), unit, { what: "creating unit a.service", service: "the registry-gateway" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ outcome: "not-applied", kind: "unavailable" });
    expect((err as Error).message).toContain(`the registry-gateway at 127.0.0.1:${port} is not reachable, nothing was sent`);
  });

  it("passes on a server's refusal as it is, and a server's unknown outcome without saying it twice", async () => {
    const port = await freePort();
    let answer: FleetError = new FleetError("already-exists", "unit a.service exists");
    await gateway("g", port, unaryHandler(log, "CreateUnit", async () => {
      throw answer;
    }));
    const c = client([`127.0.0.1:${port}`]);
    const opts = { what: "creating unit a.service", service: "the api" };
    expect(await unaryWrite(c.createUnit.bind(c), unit, opts).catch((e: unknown) => e)).toMatchObject({ kind: "already-exists", message: "unit a.service exists", outcome: undefined });
    answer = new FleetError("deadline-exceeded", "creating unit a.service may have been applied: no answer from the registry-gateway (10.0.0.1:49400) before the deadline", "unknown");
    expect(await unaryWrite(c.createUnit.bind(c), unit, opts).catch((e: unknown) => e)).toMatchObject({ kind: "deadline-exceeded", message: answer.message, outcome: "unknown" });
    // A server's own words for it (the gateway's, about etcd) become the cause.
    answer = new FleetError("unavailable", "etcd did not confirm the write, which may have been applied", "unknown");
    expect(await unaryWrite(c.createUnit.bind(c), unit, opts).catch((e: unknown) => e)).toMatchObject({
      kind: "unavailable",
      message: "creating unit a.service may have been applied: the api could not confirm it (etcd did not confirm the write, which may have been applied)",
      outcome: "unknown",
    });
  });
});

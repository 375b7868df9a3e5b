// Two real registry-gateways on one real etcd and NATS: clients given both (a RegistryConnection
// and an api process) keep working when the gateway they use is SIGKILLed, their streams go on;
// an api whose only gateway restarts serves its next call as soon as the gateway is back; and a
// write whose answer is lost says it may have been applied, and running it again succeeds.
import { execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, sleep, startEtcd, startNats, waitFor, type EtcdHandle, type NatsHandle } from "@fleet/launcher";
import {
  configureTls,
  connect,
  connectEndpoints,
  createLogger,
  FleetError,
  FleetServiceClient,
  RegistryConnection,
  FleetServiceService,
  RegistryServiceClient,
  serve,
  TargetState,
  unary,
  unaryHandler,
  type ClientReadableStream,
  type FleetServiceServer,
  type FleetServiceWatchUnitsResponse,
  type WatchClusterResponse,
} from "@fleet/wire";
import { makeCerts } from "./certs.js";
import { startService } from "./gateway-fixture.js";

const FLEETCTL = fileURLToPath(new URL("../../clients/fleetctl/bin/fleetctl", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "fleet-failover-"));
const children = new Set<ChildProcess>();
let etcd: EtcdHandle;
let nats: NatsHandle;
const ports = { a: 0, b: 0 };
const gateways = new Map<"a" | "b", ChildProcess>();
/** An api given both gateways (the first by host name), and one given only gateway a. */
let apiBoth = "";
let apiOne = "";
const figures: Record<string, unknown> = {};

function spawnTracked(name: string, env: Record<string, string>): ChildProcess {
  const child = startService(name, { FLEET_VERBOSITY: "warn", ...env });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Resolves once a fresh client (no reconnect backoff) gets an answer from the gateway. */
async function serving(port: number, timeoutMs = 20_000): Promise<number> {
  return waitFor(
    `gateway on ${port} to serve`,
    async () => {
      const c = connect(RegistryServiceClient, `127.0.0.1:${port}`);
      try {
        await unary(c.listMachines.bind(c), { minRevision: 0 }, { deadlineMs: 300 });
        return Date.now();
      } finally {
        c.close();
      }
    },
    { timeoutMs, intervalMs: 5 },
  );
}

function startGateway(which: "a" | "b"): ChildProcess {
  const child = spawnTracked("registry-gateway", { FLEET_ETCD_SERVERS: etcd.endpoint, FLEET_NATS_SERVERS: nats.url, FLEET_GATEWAY_LISTEN: `127.0.0.1:${ports[which]}` });
  gateways.set(which, child);
  return child;
}

async function kill(child: ChildProcess | undefined, sig: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(sig);
  await exited;
}

async function startApi(gatewayEndpoint: string): Promise<string> {
  const address = `127.0.0.1:${await freePort()}`;
  spawnTracked("api", { FLEET_GATEWAY_ENDPOINT: gatewayEndpoint, FLEET_API_LISTEN: address, FLEET_API_UNIX_SOCKET: "" });
  const c = connect(FleetServiceClient, address);
  await waitFor("api to serve", async () => (await unary(c.listMachines.bind(c), {}, { deadlineMs: 500 }), true), { timeoutMs: 20_000 });
  c.close();
  return address;
}

/** ms until fn first resolves, trying again at once after each failure, for at most limitMs. */
async function msUntil(fn: () => Promise<unknown>, limitMs = 10_000): Promise<{ ms: number; failures: number }> {
  const started = Date.now();
  let failures = 0;
  for (;;) {
    try {
      await fn();
      return { ms: Date.now() - started, failures };
    } catch (err) {
      failures++;
      if (Date.now() - started > limitMs) throw err;
      await sleep(5);
    }
  }
}

const options = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
const unitMsg = (name: string, desiredState = TargetState.TARGET_STATE_INACTIVE) => ({ unit: { name, options, hash: "", desiredState } });

beforeAll(async () => {
  etcd = await startEtcd({ dir: join(dir, "etcd") });
  nats = await startNats({ dir: join(dir, "nats") });
  ports.a = await freePort();
  ports.b = await freePort();
  startGateway("a");
  startGateway("b");
  await Promise.all([serving(ports.a), serving(ports.b)]);
  apiBoth = await startApi(`localhost:${ports.a},127.0.0.1:${ports.b}`);
  apiOne = await startApi(`127.0.0.1:${ports.a}`);
});

afterAll(async () => {
  for (const child of [...children]) {
    if (child.signalCode === "SIGSTOP" || child.exitCode === null) child.kill("SIGCONT");
    await kill(child, "SIGTERM");
  }
  await nats?.stop();
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
  console.log(`gateway failover figures: ${JSON.stringify(figures)}`);
});

describe("two gateways, one killed", () => {
  it("a RegistryConnection and the api given both keep reading and writing, and their streams go on", async () => {
    const conn = new RegistryConnection(`localhost:${ports.a},127.0.0.1:${ports.b}`);
    const api = connect(FleetServiceClient, apiBoth);
    const g = conn.client;
    try {
      await unary(g.createUnit.bind(g), unitMsg("conn.service"));
      await unary(api.createUnit.bind(api), unitMsg("watched.service"));

      // The api's WatchUnits: it must neither fail nor stop delivering changes.
      const seen: TargetState[] = [];
      let watchError: unknown;
      const watch = api.watchUnits({ names: ["watched.service"] });
      watch.on("data", (m: FleetServiceWatchUnitsResponse) => seen.push(...m.units.map((u) => u.unit?.desiredState ?? TargetState.TARGET_STATE_UNSPECIFIED)));
      watch.on("error", (err: unknown) => (watchError = err));
      await waitFor("the first WatchUnits message", () => seen.length > 0, { timeoutMs: 5_000, intervalMs: 10 });

      // A WatchCluster stream on the connection, opened again when it ends, as the engine does.
      let clusterRevision = 0;
      const reopened: number[] = [];
      let lost = 0;
      let cluster: ClientReadableStream<WatchClusterResponse>;
      let closing = false;
      const openCluster = (): void => {
        cluster = g.watchCluster({ minRevision: conn.minRevision, withStates: false });
        let first = true;
        cluster.on("data", (m: WatchClusterResponse) => {
          clusterRevision = Math.max(clusterRevision, m.revision);
          if (first && lost > 0) reopened.push(Date.now() - lost);
          first = false;
        });
        cluster.on("error", () => {
          if (closing) return;
          lost = Date.now();
          openCluster();
        });
      };
      openCluster();
      await waitFor("the cluster snapshot", () => clusterRevision > 0, { timeoutMs: 5_000, intervalMs: 10 });

      let state = TargetState.TARGET_STATE_INACTIVE;
      const failovers: Array<{ victim: string; connRead: number; connWrite: number; apiRead: number; apiWrite: number; watchMs: number }> = [];
      // Killing a and then b: whichever a client used first, the second kill hits the gateway it uses.
      for (const victim of ["a", "b"] as const) {
        await kill(gateways.get(victim));
        const connRead = await msUntil(() => unary(g.getUnit.bind(g), { name: "conn.service", minRevision: conn.minRevision }, { deadlineMs: 3_000 }));
        const connWrite = await msUntil(async () => {
          const res = await unary(g.setUnitDesiredState.bind(g), { name: "conn.service", desiredState: TargetState.TARGET_STATE_LOADED }, { deadlineMs: 3_000 });
          conn.observe(res.revision);
        });
        const apiRead = await msUntil(() => unary(api.getUnit.bind(api), { name: "watched.service" }, { deadlineMs: 3_000 }));
        state = state === TargetState.TARGET_STATE_LOADED ? TargetState.TARGET_STATE_INACTIVE : TargetState.TARGET_STATE_LOADED;
        const changed = Date.now();
        const apiWrite = await msUntil(() => unary(api.setUnitTargetState.bind(api), { name: "watched.service", desiredState: state }, { deadlineMs: 3_000 }));
        await waitFor("the change on the api's WatchUnits", () => seen.at(-1) === state, { timeoutMs: 5_000, intervalMs: 5 }).catch((err: unknown) => {
          throw new Error(`${(err as Error).message} (seen ${JSON.stringify(seen)}, stream error ${String(watchError)})`);
        });
        const watchMs = Date.now() - changed;
        await waitFor("the WatchCluster stream to reach the write", () => clusterRevision >= conn.minRevision, { timeoutMs: 5_000, intervalMs: 5 });
        failovers.push({ victim, connRead: connRead.ms, connWrite: connWrite.ms, apiRead: apiRead.ms, apiWrite: apiWrite.ms, watchMs });
        for (const ms of [connRead.ms, connWrite.ms, apiRead.ms, apiWrite.ms]) expect(ms).toBeLessThan(1_500);
        expect(watchError).toBeUndefined();
        startGateway(victim);
        await serving(ports[victim]);
      }
      figures.failovers = failovers;
      figures.watchClusterReopenedMs = reopened;
      // The second kill took the gateway both streams were on: the cluster stream was opened
      // again and served within a second.
      expect(reopened.length).toBeGreaterThan(0);
      for (const ms of reopened) expect(ms).toBeLessThan(1_000);
      watch.cancel();
      closing = true;
      cluster!.cancel();
    } finally {
      api.close();
      conn.close();
    }
  });
});

describe("one gateway restarted", () => {
  it("the api's first call after the gateway is back succeeds at once, with no error window", async () => {
    const api = connect(FleetServiceClient, apiOne);
    const rounds: Array<{ gapMs: number; errorsAfterUp: number }> = [];
    try {
      for (let round = 0; round < 3; round++) {
        await kill(gateways.get("a"));
        // A call made while the gateway is down waits for it (within its deadline) instead of failing.
        const during = unary(api.listMachines.bind(api), {}, { deadlineMs: 8_000 });
        await sleep(1_000);
        startGateway("a");
        let up = 0;
        let errorsAfterUp = 0;
        const upAt = serving(ports.a).then((t) => (up = t));
        const firstOk = (async () => {
          for (;;) {
            try {
              await unary(api.listMachines.bind(api), {}, { deadlineMs: 3_000 });
              return Date.now();
            } catch {
              if (up) errorsAfterUp++;
              await sleep(2);
            }
          }
        })();
        const [t0, t1] = await Promise.all([upAt, firstOk]);
        await expect(during).resolves.toBeDefined();
        rounds.push({ gapMs: Math.max(0, t1 - t0), errorsAfterUp });
        await sleep(300);
      }
    } finally {
      api.close();
    }
    figures.restart = rounds;
    for (const r of rounds) {
      expect(r.errorsAfterUp).toBe(0);
      expect(r.gapMs).toBeLessThan(600);
    }
  });
});

function fleetctl(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(FLEETCTL, ["--endpoint", apiOne, ...args], { cwd, env: { ...process.env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("a write whose answer is lost", () => {
  it("fleetctl start says it may have been applied and that retrying is safe; starting again succeeds", async () => {
    const work = join(dir, "units");
    rmSync(work, { recursive: true, force: true });
    execFile("mkdir", ["-p", work]);
    await sleep(50);
    writeFileSync(join(work, "lost.service"), "[Service]\nExecStart=/bin/sleep infinity\n");
    const gateway = gateways.get("a");
    // The api's gateway stops answering: the request is sent, its answer never comes.
    gateway?.kill("SIGSTOP");
    let first: { code: number; stdout: string; stderr: string };
    try {
      first = await fleetctl(work, "--request-timeout", "1.5", "start", "--no-block", "lost.service");
    } finally {
      gateway?.kill("SIGCONT");
    }
    expect(first.code).toBe(1);
    expect(first.stderr).toBe(
      `Error: creating unit lost.service may have been applied: no answer from the registry-gateway (127.0.0.1:${ports.a}) before the deadline; ` +
        "retrying is safe (check with fleetctl list-unit-files)\n",
    );
    figures.lostAnswerLine = first.stderr.trim();
    const again = await fleetctl(work, "start", "--no-block", "lost.service");
    expect(again).toMatchObject({ code: 0, stderr: "" });
    const api = connect(FleetServiceClient, apiOne);
    try {
      const got = await unary(api.getUnit.bind(api), { name: "lost.service" });
      expect(got.unit?.unit?.desiredState).toBe(TargetState.TARGET_STATE_LAUNCHED);
      const all = await unary(api.listUnits.bind(api), { offset: 0, limit: 0 });
      expect(all.units.filter((u) => u.unit?.name === "lost.service")).toHaveLength(1);
    } finally {
      api.close();
    }
  });

  it("the api keeps gRPC's status and says so in its message", async () => {
    const api = connect(FleetServiceClient, apiOne);
    const gateway = gateways.get("a");
    gateway?.kill("SIGSTOP");
    try {
      const err = await unary(api.createUnit.bind(api), unitMsg("lost-2.service"), { deadlineMs: 1_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FleetError);
      expect(err).toMatchObject({ kind: "deadline-exceeded", outcome: "unknown" });
      expect((err as Error).message).toContain("creating unit lost-2.service may have been applied");
    } finally {
      gateway?.kill("SIGCONT");
      api.close();
    }
  });
});

describe("over TLS", () => {
  it("a client of two endpoints, one named by host name, fails over and checks each server's certificate", async () => {
    const certs = makeCerts(mkdtempSync(join(dir, "certs-")));
    configureTls({ certFile: certs.cert, keyFile: certs.key, caFile: certs.ca });
    const log = createLogger("tls-failover", "silent");
    const server = async (id: string) => {
      const impl = { listMachines: unaryHandler(log, "ListMachines", async () => ({ machines: [{ id, publicIp: "", metadata: {}, version: "", agentEndpoint: "" }] })) };
      return serve("127.0.0.1:0", [[FleetServiceService, impl as unknown as FleetServiceServer]]);
    };
    const one = await server("one");
    const two = await server("two");
    const client = connectEndpoints(FleetServiceClient, [`localhost:${one.port}`, `127.0.0.1:${two.port}`], { waitForReady: true });
    try {
      const who = async () => (await unary(client.listMachines.bind(client), {}, { deadlineMs: 3_000 })).machines[0]?.id;
      const first = await who();
      (first === "one" ? one : two).server.forceShutdown();
      const started = Date.now();
      expect(await who()).toBe(first === "one" ? "two" : "one");
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      client.close();
      one.server.forceShutdown();
      two.server.forceShutdown();
      configureTls({ certFile: "", keyFile: "", caFile: "" });
    }
  });
});

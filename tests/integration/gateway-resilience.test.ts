// The registry-gateway while etcd goes away, stalls and comes back: what agents and engines see.
// etcd is started here by hand (not through the fixture) so that it can be killed, frozen
// (SIGSTOP) and started again on the same ports and data. Everything is stopped by PID.
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ETCD_BIN,
  etcdArgs,
  etcdHealthy,
  freePorts,
  logTail,
  signal,
  spawnLogged,
  startNats,
  terminate,
  waitFor,
  waitForExit,
  type NatsHandle,
  type SpawnedProc,
} from "@fleet/launcher";
import { connect, FleetError, RegistryServiceClient, TargetState, unary, type WatchClusterResponse } from "@fleet/wire";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "fleet-resilience-"));

interface Etcd {
  proc: SpawnedProc;
  readonly args: string[];
  readonly endpoint: string;
  readonly metricsUrl: string;
}

let etcd: Etcd;
let nats: NatsHandle;
let gateway: SpawnedProc;
let c: RegistryServiceClient;

async function startEtcdProcess(args: string[]): Promise<SpawnedProc> {
  return spawnLogged({ cmd: ETCD_BIN, args, logFile: join(dir, "etcd.log") });
}

async function etcdUp(): Promise<void> {
  await waitFor("etcd healthy", () => etcdHealthy(etcd.metricsUrl).catch(() => false), { timeoutMs: 20_000, intervalMs: 50 });
}

async function etcdPost<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${etcd.endpoint}${path}`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(3_000) });
  if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function leaseIds(): Promise<string[]> {
  const res = await etcdPost<{ leases?: Array<{ ID: string }> }>("/v3/lease/leases", {});
  return (res.leases ?? []).map((l) => l.ID).sort();
}

beforeAll(async () => {
  const [clientPort, peerPort, metricsPort, gatewayPort] = (await freePorts(4)) as [number, number, number, number];
  const args = etcdArgs({ name: "etcd", dataDir: join(dir, "etcd-data"), clientPort, peerPort, metricsPort });
  etcd = { proc: await startEtcdProcess(args), args, endpoint: `http://127.0.0.1:${clientPort}`, metricsUrl: `http://127.0.0.1:${metricsPort}` };
  await etcdUp();
  nats = await startNats({ dir: join(dir, "nats") });
  const address = `127.0.0.1:${gatewayPort}`;
  gateway = await spawnLogged({
    cmd: process.execPath,
    args: [join(repo, "services", "registry-gateway", "dist", "main.js")],
    logFile: join(dir, "gateway.log"),
    env: { ...process.env, FLEET_ETCD_SERVERS: etcd.endpoint, FLEET_NATS_SERVERS: nats.url, FLEET_GATEWAY_LISTEN: address, FLEET_VERBOSITY: "info" },
  });
  c = connect(RegistryServiceClient, address);
  await waitFor("registry-gateway to serve", () => unary(c.listMachines.bind(c), { minRevision: 0 }, { deadlineMs: 500 }).then(() => true), {
    timeoutMs: 20_000,
  });
});

afterAll(async () => {
  c?.close();
  if (gateway) await terminate(gateway, 10_000);
  await nats?.stop();
  if (etcd) {
    signal(etcd.proc, "SIGCONT");
    await terminate(etcd.proc, 10_000);
  }
  rmSync(dir, { recursive: true, force: true });
});

const machineId = (n: number) => n.toString(16).padStart(32, "0");
const machine = (n: number, publicIp = `10.0.2.${n}`) => ({ id: machineId(n), publicIp, metadata: {}, version: "", agentEndpoint: "" });

/** "alive" / "dead" for a heartbeat's answer, the error's kind when it failed. */
async function heartbeat(n: number, leaseId: string): Promise<string> {
  try {
    const res = await unary(c.machineHeartbeat.bind(c), { machineId: machineId(n), leaseId }, { deadlineMs: 10_000 });
    return res.alive ? "alive" : "dead";
  } catch (err) {
    return err instanceof FleetError ? err.kind : String(err);
  }
}

interface Watch {
  readonly messages: WatchClusterResponse[];
  readonly ended: Promise<FleetError | undefined>;
  cancel(): void;
}

function watchCluster(): Watch {
  const messages: WatchClusterResponse[] = [];
  const call = c.watchCluster({ minRevision: 0, withStates: false });
  call.on("data", (m: WatchClusterResponse) => messages.push(m));
  const ended = new Promise<FleetError | undefined>((resolve) => {
    call.on("error", (err: { code?: number; details?: string }) => resolve(err.code === 1 ? undefined : new FleetError(err.code === 14 ? "unavailable" : "internal", err.details ?? "")));
    call.on("end", () => resolve(undefined));
  });
  return { messages, ended, cancel: () => call.cancel() };
}

/**
 * A TCP proxy to etcd that can swallow etcd's answers: requests still reach etcd and are
 * applied, their responses never arrive (a connection lost after sending).
 */
async function answerSwallowingProxy(target: string): Promise<{ endpoint: string; swallow: boolean; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const state = { swallow: false };
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (b) => upstream.write(b));
    upstream.on("data", (b) => {
      if (!state.swallow) client.write(b);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get swallow() {
      return state.swallow;
    },
    set swallow(v: boolean) {
      state.swallow = v;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function gatewayLog(): string {
  return logTail(join(dir, "gateway.log"), 40);
}

describe("etcd killed and started again under the gateway", () => {
  it("heartbeats never say the machine is gone and go on with the same lease; cluster watches end with UNAVAILABLE and are served again", async () => {
    const reg = await unary(c.registerMachine.bind(c), { machine: machine(1), ttlSeconds: 20 });
    expect(await heartbeat(1, reg.leaseId)).toBe("alive");
    const before = watchCluster();
    await waitFor("the watch's snapshot", () => before.messages.length > 0, { timeoutMs: 5_000, intervalMs: 10 });

    signal(etcd.proc, "SIGKILL");
    await waitForExit(etcd.proc, 5_000);
    const killedAt = Date.now();

    // The engine's stream ends with UNAVAILABLE: it must re-sync, not wait on a silent stream.
    const ended = await Promise.race([before.ended, new Promise<"still open">((r) => setTimeout(() => r("still open"), 10_000))]);
    expect(ended, gatewayLog()).toBeInstanceOf(FleetError);
    expect((ended as FleetError).kind).toBe("unavailable");
    const endedAfterMs = Date.now() - killedAt;

    // While etcd is away: heartbeats are answered from the gateway's memory while the lease
    // surely lives (its renewal is not due: granted for 2 × agent_ttl, renewed once per
    // agent_ttl), the agent keeps its lease; the engine's views are refused.
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(await heartbeat(1, reg.leaseId));
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(outcomes).toEqual(["alive", "alive", "alive", "alive"]);
    const refused = watchCluster();
    expect((await refused.ended)?.kind).toBe("unavailable");
    await expect(unary(c.getClusterSnapshot.bind(c), { minRevision: 0 })).rejects.toMatchObject({ kind: "unavailable" });
    // Reads the agents and users make still come from the cache.
    expect((await unary(c.listMachines.bind(c), { minRevision: 0 })).machines.map((m) => m.id)).toContain(machineId(1));

    etcd.proc = await startEtcdProcess(etcd.args);
    await etcdUp();
    const upAt = Date.now();
    await waitFor("a lease look-up to go through", () => unary(c.getMachineLeases.bind(c), { machineIds: [machineId(1)], heardOnly: false, exceptMachineIds: [] }, { deadlineMs: 1_000 }).then(() => true, () => undefined), { timeoutMs: 15_000, intervalMs: 50 });
    const heartbeatAfterMs = Date.now() - upAt;
    expect(await heartbeat(1, reg.leaseId)).toBe("alive");
    const after = await waitFor(
      "a cluster watch to be served again",
      async () => {
        const w = watchCluster();
        const first = await Promise.race([
          w.ended.then(() => undefined),
          waitFor("snapshot", () => (w.messages.length > 0 ? w.messages[0] : undefined), { timeoutMs: 5_000, intervalMs: 10 }),
        ]);
        if (!first) return undefined;
        w.cancel();
        return first;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const watchAfterMs = Date.now() - upAt;
    expect(after.snapshot).toBe(true);
    expect(after.machines.map((m) => m.id)).toContain(machineId(1));
    // The same lease throughout: the machine never left.
    const leases = await unary(c.getMachineLeases.bind(c), { machineIds: [machineId(1)], heardOnly: false, exceptMachineIds: [] });
    expect(leases.leases).toHaveLength(1);
    expect(await leaseIds()).toContain(reg.leaseId);
    console.log(`etcd kill: cluster watch ended after ${endedAfterMs} ms; after etcd was healthy again, lease look-up in ${heartbeatAfterMs} ms, cluster watch in ${watchAfterMs} ms`);
  });
});

describe("etcd frozen (SIGSTOP) for a few request timeouts", () => {
  it("requests fail, the LeaseGrant is not sent twice, no circuit opens, and the cluster watch carries on", async () => {
    const reg = await unary(c.registerMachine.bind(c), { machine: machine(2), ttlSeconds: 30 });
    const watch = watchCluster();
    await waitFor("the watch's snapshot", () => watch.messages.length > 0, { timeoutMs: 5_000, intervalMs: 10 });
    const leasesBefore = await leaseIds();

    signal(etcd.proc, "SIGSTOP");
    let stoppedMs = 0;
    try {
      const t0 = Date.now();
      // Its LeaseGrant reaches etcd and gets no answer: the registration fails and is not re-sent.
      const registration = await unary(c.registerMachine.bind(c), { machine: machine(3), ttlSeconds: 30 }).then(
        () => "registered",
        (err: unknown) => (err instanceof FleetError ? `${err.kind}: ${err.message}` : String(err)),
      );
      expect(registration).toMatch(/^unavailable: etcd did not answer/);
      // Heartbeats whose renewal is not due are answered from memory: none says the machine is gone.
      expect(await heartbeat(2, reg.leaseId)).toBe("alive");
      stoppedMs = Date.now() - t0;
    } finally {
      signal(etcd.proc, "SIGCONT");
    }
    // Slow requests opened no circuit: the very next one goes through at once.
    const t1 = Date.now();
    const after = await unary(c.registerMachine.bind(c), { machine: machine(7), ttlSeconds: 30 });
    const firstAfterMs = Date.now() - t1;
    expect(firstAfterMs).toBeLessThan(900);

    // etcd granted at most the one lease it was asked for (it would lapse after its TTL).
    await new Promise((r) => setTimeout(r, 500));
    const added = (await leaseIds()).filter((id) => !leasesBefore.includes(id) && id !== after.leaseId);
    expect(added.length).toBeLessThanOrEqual(1);

    // The cluster watch never ended, and carries what happens next.
    const created = await unary(c.createUnit.bind(c), { unit: { name: "after-freeze.service", options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }], hash: "", desiredState: TargetState.TARGET_STATE_INACTIVE } });
    await waitFor("the new unit on the watch", () => watch.messages.some((m) => m.revision >= created.revision && m.units.some((u) => u.name === "after-freeze.service")), {
      timeoutMs: 5_000,
      intervalMs: 10,
    });
    const settled = await Promise.race([watch.ended.then(() => "ended"), Promise.resolve("open")]);
    expect(settled).toBe("open");
    watch.cancel();
    console.log(`etcd frozen ${stoppedMs} ms: ${added.length} lease(s) granted for one failed registration; first registration after SIGCONT in ${firstAfterMs} ms`);
  });
});

describe("registrations and leases", () => {
  it("one LeaseGrant per registration: a grant whose answer is lost is not sent again", async () => {
    const proxy = await answerSwallowingProxy(etcd.endpoint);
    const [port] = (await freePorts(1)) as [number];
    const other = await spawnLogged({
      cmd: process.execPath,
      args: [join(repo, "services", "registry-gateway", "dist", "main.js")],
      logFile: join(dir, "gateway-behind-proxy.log"),
      env: { ...process.env, FLEET_ETCD_SERVERS: proxy.endpoint, FLEET_NATS_SERVERS: nats.url, FLEET_GATEWAY_LISTEN: `127.0.0.1:${port}`, FLEET_VERBOSITY: "info" },
    });
    const c2 = connect(RegistryServiceClient, `127.0.0.1:${port}`);
    try {
      await waitFor("the second gateway to serve", () => unary(c2.listMachines.bind(c2), { minRevision: 0 }, { deadlineMs: 500 }).then(() => true), { timeoutMs: 20_000 });
      const before = await leaseIds();
      proxy.swallow = true;
      const outcome = await unary(c2.registerMachine.bind(c2), { machine: machine(6), ttlSeconds: 30 }, { deadlineMs: 10_000 }).then(
        () => "registered",
        (err: unknown) => (err instanceof FleetError ? `${err.kind}: ${err.message}` : String(err)),
      );
      expect(outcome).toMatch(/^unavailable: etcd did not answer/);
      // etcd applied the one grant it was sent; a blind retry would have made it three.
      const added = (await leaseIds()).filter((id) => !before.includes(id));
      expect(added).toHaveLength(1);
    } finally {
      c2.close();
      await terminate(other, 10_000);
      await proxy.close();
    }
  });

  it("a registration whose write fails revokes the lease it was granted; a new one revokes the previous", async () => {
    const before = await leaseIds();
    // etcd refuses a request over 1.5 MiB after the LeaseGrant went through.
    const huge = machine(4, "x".repeat(1_600_000));
    await expect(unary(c.registerMachine.bind(c), { machine: huge, ttlSeconds: 30 })).rejects.toBeInstanceOf(FleetError);
    expect((await leaseIds()).filter((id) => !before.includes(id))).toEqual([]);

    const first = await unary(c.registerMachine.bind(c), { machine: machine(5), ttlSeconds: 30 });
    const second = await unary(c.registerMachine.bind(c), { machine: machine(5), ttlSeconds: 30 });
    const now = await leaseIds();
    expect(now).toContain(second.leaseId);
    expect(now).not.toContain(first.leaseId);
    expect(await heartbeat(5, first.leaseId)).toBe("dead");
    expect(await heartbeat(5, second.leaseId)).toBe("alive");
  });
});

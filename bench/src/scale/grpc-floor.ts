// The floor of the gateway's idle cost: a bare grpc-js server (no fleet logic: no etcd, no
// cache, no interceptors, no metrics) that answers N machines' idle traffic the way the gateway
// must, with the same protobuf messages: each machine's MachineHeartbeats stream with a
// message every agent_ttl/3, its GetMachineSchedule every reconcile interval (answered with a
// prepared schedule of `units-per-machine` units, encoded on every call as the gateway does),
// over one HTTP/2 connection per machine with the agents' keepalive. Its CPU and RSS over a
// quiet window are what grpc-js and HTTP/2 alone cost this machine for that traffic: the
// gateway cannot idle below them. First, every machine starts at once and sends what a
// starting agent sends (answered at once): RegisterMachine and, meanwhile, its first pass's
// GetMachineSchedule; once registered, its MachineHeartbeats stream and first heartbeat. The
// time until every RegisterMachine is answered is the floor of the scale bench's registerMs for
// grpc-js on this machine (no etcd, no NATS, none of the agent's own start). The client
// processes run at --client-nice, as the scale bench's simulated machines at --sim-nice.
//
//   node bench/dist/scale/grpc-floor.js [--machines 1000] [--ttl 5] [--reconcile 5]
//        [--units-per-machine 10] [--seconds 20] [--per-worker 250] [--client-nice 10]
//
// Prints a line per figure and one JSON line (also bench/results/grpc-floor.json).
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { setPriority } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import {
  ENDPOINTS_KEEPALIVE,
  machineToWire,
  RegistryServiceClient,
  RegistryServiceService,
  unitToWire,
  type GetMachineScheduleResponse,
  type MachineHeartbeatsRequest,
  type RegisterMachineResponse,
  type MachineHeartbeatsResponse,
} from "@fleet/wire";
import { giveEveryChannelItsOwnConnection } from "./own-connections.js";
import { cpuPercent, cpuSnapshot, load, rssMb } from "./proc-stats.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, "..", "..", "results");

const { values } = parseArgs({
  options: {
    role: { type: "string", default: "main" },
    machines: { type: "string", default: "1000" },
    ttl: { type: "string", default: "5" },
    reconcile: { type: "string", default: "5" },
    "units-per-machine": { type: "string", default: "10" },
    seconds: { type: "string", default: "20" },
    "per-worker": { type: "string", default: "250" },
    "client-nice": { type: "string", default: "10" },
    address: { type: "string", default: "" },
    first: { type: "string", default: "0" },
  },
});
const num = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
};

/** A schedule like the scale bench's: plain services, `[Service] ExecStart=/bin/sleep infinity`. */
function schedule(machineId: string, units: number): GetMachineScheduleResponse {
  return {
    units: Array.from({ length: units }, (_, i) =>
      unitToWire({
        name: `floor-${machineId.slice(0, 8)}-${i}.service`,
        options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }],
        hash: "0".repeat(40),
        desiredState: "launched",
      }),
    ),
    machines: [machineToWire({ id: machineId, publicIp: "127.0.0.1", metadata: {} })],
    revision: 1,
  };
}

async function server(): Promise<void> {
  const perMachine = num("units-per-machine");
  const s = new grpc.Server();
  // Only the two methods idle agents call; the rest answer UNIMPLEMENTED.
  s.addService(RegistryServiceService, {
    machineHeartbeats: (call: grpc.ServerDuplexStream<MachineHeartbeatsRequest, MachineHeartbeatsResponse>) => {
      call.on("data", (req: MachineHeartbeatsRequest) => call.write({ seq: req.seq, alive: true, errorKind: "", errorMessage: "", scheduleRevision: 1, acceptsReports: true, acceptsScheduleReads: true }));
      call.on("end", () => call.end());
      call.on("error", () => undefined);
    },
    registerMachine: (_call: unknown, done: grpc.sendUnaryData<RegisterMachineResponse>) => done(null, { leaseId: "1", revision: 1 }),
    getMachineSchedule: (call: grpc.ServerUnaryCall<{ machineId: string }, GetMachineScheduleResponse>, done: grpc.sendUnaryData<GetMachineScheduleResponse>) =>
      done(null, schedule(call.request.machineId, perMachine)),
  } as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) => s.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  process.send?.({ port });
}

async function clients(): Promise<void> {
  // One connection per machine, as the scale bench's workers have.
  giveEveryChannelItsOwnConnection();
  const [count, first, ttlMs, reconcileMs] = [num("per-worker"), Number(values.first), num("ttl") * 1000, num("reconcile") * 1000];
  const options = ENDPOINTS_KEEPALIVE; // the agents' channels'
  const machines = Array.from({ length: count }, (_, i) => {
    const machineId = (first + i).toString(16).padStart(32, "0");
    return { machineId, client: new RegistryServiceClient(values.address ?? "", grpc.credentials.createInsecure(), options) };
  });
  const go = new Promise<void>((resolve) => process.once("message", () => resolve()));
  process.send?.({ ready: count });
  await go;
  // All at once, as the scale bench starts its agents: each registers while its first pass
  // reads its schedule, then opens its heartbeat stream; then each machine's idle traffic.
  const t0 = performance.now();
  const streams = await Promise.all(
    machines.map(async ({ machineId, client }) => {
      const firstRead = new Promise<void>((resolve) => client.getMachineSchedule({ machineId, minRevision: 0 }, () => resolve()));
      await new Promise<void>((resolve, reject) =>
        client.registerMachine({ machine: machineToWire({ id: machineId, publicIp: "127.0.0.1", metadata: {} }), ttlSeconds: 5, instance: "floor" }, (err) => (err ? reject(err) : resolve())),
      );
      const stream = client.machineHeartbeats();
      stream.on("data", () => undefined);
      stream.on("error", () => undefined);
      stream.write({ machineId, leaseId: "1", seq: 0 });
      return { stream, firstRead };
    }),
  );
  process.send?.({ registeredMs: performance.now() - t0 });
  await Promise.all(streams.map((s) => s.firstRead));
  machines.forEach(({ machineId, client }, i) => {
    const stream = streams[i]!.stream;
    let seq = 0;
    const beat = () => stream.write({ machineId, leaseId: "1", seq: ++seq });
    const read = () => client.getMachineSchedule({ machineId, minRevision: 0 }, () => undefined);
    setTimeout(() => {
      beat();
      setInterval(beat, ttlMs / 3);
    }, Math.random() * (ttlMs / 3));
    setTimeout(() => {
      read();
      setInterval(read, reconcileMs);
    }, Math.random() * reconcileMs);
  });
}

async function main(): Promise<void> {
  const clientNice = Number(values["client-nice"]);
  if (!Number.isInteger(clientNice) || clientNice < 0 || clientNice > 19) throw new Error("--client-nice must be an integer from 0 to 19");
  const [machines, perWorker, seconds] = [num("machines"), num("per-worker"), num("seconds")];
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const c of children) c.kill("SIGKILL");
  };
  process.once("SIGINT", () => (stop(), process.exit(130)));
  process.once("SIGTERM", () => (stop(), process.exit(143)));
  try {
    const me = fileURLToPath(import.meta.url);
    const common = ["--ttl", String(values.ttl), "--reconcile", String(values.reconcile), "--units-per-machine", String(values["units-per-machine"])];
    const srv = fork(me, ["--role", "server", ...common], { stdio: "inherit" });
    children.push(srv);
    const { port } = await new Promise<{ port: number }>((resolve) => srv.once("message", (m) => resolve(m as { port: number })));
    const workers: ChildProcess[] = [];
    for (let first = 0; first < machines; first += perWorker) {
      const w = fork(me, ["--role", "clients", ...common, "--address", `127.0.0.1:${port}`, "--first", String(first), "--per-worker", String(Math.min(perWorker, machines - first))], { stdio: "inherit" });
      children.push(w);
      workers.push(w);
      if (w.pid !== undefined && clientNice > 0) setPriority(w.pid, clientNice);
    }
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once("message", resolve))));
    // Every connection's client is made: all machines register at once.
    const registered = workers.map((w) => new Promise<number>((resolve) => w.once("message", (m) => resolve((m as { registeredMs: number }).registeredMs))));
    const tGo = performance.now();
    for (const w of workers) w.send("go");
    await Promise.all(registered);
    const registerMs = Math.round(performance.now() - tGo);
    // Past connection set-up and a reconcile interval; then the quiet window.
    await new Promise((r) => setTimeout(r, Math.max(5_000, num("reconcile") * 1000 + 1000)));
    const procs = [{ name: "server", pid: srv.pid ?? 0 }, ...workers.map((w, i) => ({ name: `clients-${i + 1}`, pid: w.pid ?? 0 }))];
    const c0 = cpuSnapshot(procs);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = cpuPercent(c0, cpuSnapshot(procs));
    const rss = rssMb(procs);
    const result = {
      startedAt: new Date().toISOString(),
      machines,
      registerMs,
      clientNice,
      agentTtlSeconds: num("ttl"),
      reconcileSeconds: num("reconcile"),
      unitsPerMachine: num("units-per-machine"),
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      heartbeatsPerSecond: Math.round(machines / (num("ttl") / 3)),
      scheduleReadsPerSecond: Math.round(machines / num("reconcile")),
      serverCpuPercent: cpu.server ?? null,
      serverRssMb: rss.server ?? null,
      serverRssKbPerMachine: rss.server !== undefined ? Math.round((rss.server * 1024) / machines) : null,
      clientsCpuPercent: Object.entries(cpu).filter(([n]) => n !== "server").reduce((a, [, v]) => a + v, 0),
      load: load(),
    };
    console.log(`grpc floor: ${machines} machines, a heartbeat each every ${num("ttl") / 3} s and a schedule read (${result.unitsPerMachine} units) every ${result.reconcileSeconds} s`);
    console.log(`  ${machines} machines registered at once, each reading its schedule and opening its heartbeat stream (answered at once, no etcd; clients at nice ${clientNice}): ${registerMs} ms`);
    console.log(`  bare grpc-js server at idle: ${result.serverCpuPercent} % CPU, ${result.serverRssMb} MB RSS (${result.serverRssKbPerMachine} KB per machine)`);
    console.log(`  the clients (${workers.length} processes): ${Math.round(result.clientsCpuPercent)} % CPU; load ${result.load.join("/")}`);
    console.log(JSON.stringify(result));
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, "grpc-floor.json"), `${JSON.stringify(result)}\n`);
  } finally {
    stop();
  }
}

const role = values.role;
if (role === "server") await server();
else if (role === "clients") await clients();
else {
  await main();
  process.exit(0);
}

// deploy/systemd as an operator installs it: a control-plane machine boots etcd and NATS
// (Debian's own units) and the registry-gateway, the engine and the api from deploy/systemd's
// unit files, hardened, under mutual TLS with certificates from deploy/tls/make-certs.sh and
// auth on; two machines boot the agent from deploy/systemd/fleet-agent.service. Only what a
// site must set differs (addresses, in fleet.conf and a drop-in: the sandbox machines share one
// network namespace). fleetctl drives it; a worker's loss moves its unit.
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bootMachine,
  claimAddressBlock,
  ClusterHandle,
  createMachineFs,
  killMachine,
  machinePublicIp,
  newMachineId,
  repoRoot,
  waitFor,
  waitMachineReady,
  writeState,
  type ClusterState,
  type MachineRecord,
} from "@fleet/launcher";
import { fleetctl } from "./fleetctl.js";
import { unitWriter } from "./sandbox.js";

const root = repoRoot();
const stateDir = `/var/tmp/fleet-dev/e2e-deploy-${process.pid}`;
const tlsDir = join(stateDir, "tls");
const token = `fleet_${"ab12cd34ef56"}_${"x".repeat(43)}`;
const files = unitWriter("deploy");
let cluster: ClusterHandle;
let env: Record<string, string>;
let cpIp = "";

const sh = (machine: string, script: string) => cluster.exec(machine, ["bash", "-c", script], { timeoutMs: 60_000 });
const isActive = async (machine: string, unit: string) => (await sh(machine, `systemctl is-active ${unit}`)).stdout.trim();

/** fleet.conf of every machine (deploy/fleet.conf.example with this site's addresses). */
function fleetConf(publicIp: string): string {
  const example = readFileSync(join(root, "deploy/fleet.conf.example"), "utf8");
  const site: Record<string, string> = {
    etcd_servers: `http://${cpIp}:2379`,
    nats_servers: `nats://${cpIp}:4222`,
    gateway_listen: `${cpIp}:49400`,
    gateway_endpoint: `${cpIp}:49400`,
    api_listen: `${cpIp}:49500`,
    api_http_listen: `${cpIp}:49501`,
    api_endpoint: `${cpIp}:49500`,
    api_http_endpoint: `${cpIp}:49501`,
    metadata: "",
    agent_ttl: "5s",
  };
  const lines = example.split("\n").map((line) => {
    const key = /^([a-z_]+)\s*=/.exec(line)?.[1];
    return key && key in site ? `${key} = ${site[key]}` : line;
  });
  return `${lines.join("\n")}\npublic_ip = ${publicIp}\n`;
}

/** A machine with fleet's files installed as deploy/README.md says, enabled units, not booted. */
function install(name: string, index: number, block: string, units: string[], certs: Record<string, string>, dropIn: Record<string, string>): MachineRecord {
  const m = createMachineFs({ name, index, addressBlock: block, cluster: `deploy${process.pid}`, clusterDir: stateDir, machineId: newMachineId() });
  const etc = join(m.fs, "etc");
  mkdirSync(join(etc, "fleet/tls"), { recursive: true });
  writeFileSync(join(etc, "fleet/fleet.conf"), fleetConf(m.publicIp));
  writeFileSync(join(etc, "fleet/admin.token"), `${token}\n`, { mode: 0o600 });
  for (const [target, source] of Object.entries(certs)) copyFileSync(join(tlsDir, source), join(etc, "fleet/tls", target));
  for (const unit of units) {
    const own = join(root, "deploy/systemd", unit);
    const path = unit.startsWith("fleet-") ? `/etc/systemd/system/${unit}` : `/lib/systemd/system/${unit}`;
    if (unit.startsWith("fleet-")) copyFileSync(own, join(m.fs, path));
    symlinkSync(path, join(etc, "systemd/system/multi-user.target.wants", unit));
    const lines = dropIn[unit];
    if (lines) {
      mkdirSync(join(etc, `systemd/system/${unit}.d`), { recursive: true });
      writeFileSync(join(etc, `systemd/system/${unit}.d/site.conf`), `[Service]\n${lines}\n`);
    }
  }
  return m;
}

/** The checkout's mode before the test opened it to other users (restored after). */
let rootMode: number | undefined;

beforeAll(async () => {
  // The control plane runs as dynamic users, who must read /opt/fleet (the checkout, bound
  // there), as deploy/README.md says of an installation. A checkout in a directory of mode 0700
  // (mktemp -d, as CI's clones are) is opened to them for the test's length.
  const mode = statSync(root).mode & 0o777;
  if ((mode & 0o005) !== 0o005) {
    rootMode = mode;
    chmodSync(root, mode | 0o005);
  }
  mkdirSync(stateDir, { recursive: true });
  const block = await claimAddressBlock(stateDir, `deploy${process.pid}`);
  cpIp = machinePublicIp(1, block);
  const [w1Ip, w2Ip] = [machinePublicIp(2, block), machinePublicIp(3, block)];
  execFileSync("sh", [join(root, "deploy/tls/make-certs.sh"), tlsDir, "--hosts", cpIp, "--client", "ops-admin"], { stdio: "ignore" });
  const cp = install("cp", 1, block, ["etcd.service", "nats-server.service", "fleet-registry-gateway.service", "fleet-engine.service", "fleet-api.service"], { "ca.pem": "ca.pem", ...Object.fromEntries(["api", "engine", "registry-gateway"].flatMap((s) => [[`fleet-${s}.pem`, `fleet-${s}.pem`], [`fleet-${s}.key`, `fleet-${s}.key`]])) }, {
    "fleet-registry-gateway.service": `Environment=FLEET_METRICS_LISTEN=${cpIp}:49401`,
    "fleet-engine.service": `Environment=FLEET_METRICS_LISTEN=${cpIp}:49601`,
    "fleet-api.service": `Environment=FLEET_METRICS_LISTEN=${cpIp}:49502`,
  });
  // etcd and NATS as Debian runs them, on this machine's address.
  mkdirSync(join(cp.fs, "etc/default"), { recursive: true });
  // Sandbox machines mask the host's etcd and NATS units; this one runs them.
  for (const unit of ["etcd.service", "nats-server.service"]) rmSync(join(cp.fs, "etc/systemd/system", unit), { force: true });
  writeFileSync(
    join(cp.fs, "etc/default/etcd"),
    [`ETCD_NAME=cp`, `ETCD_LISTEN_CLIENT_URLS=http://${cpIp}:2379`, `ETCD_ADVERTISE_CLIENT_URLS=http://${cpIp}:2379`, `ETCD_LISTEN_PEER_URLS=http://${cpIp}:2380`, `ETCD_INITIAL_ADVERTISE_PEER_URLS=http://${cpIp}:2380`, `ETCD_INITIAL_CLUSTER=cp=http://${cpIp}:2380`, ""].join("\n"),
  );
  writeFileSync(join(cp.fs, "etc/nats-server.conf"), `listen: ${cpIp}:4222\n`);
  const etcdUid = Number(execFileSync("id", ["-u", "etcd"], { encoding: "utf8" }).trim());
  mkdirSync(join(cp.fs, "var/lib/etcd/default"), { recursive: true, mode: 0o700 });
  chownSync(join(cp.fs, "var/lib/etcd"), etcdUid, etcdUid);
  chownSync(join(cp.fs, "var/lib/etcd/default"), etcdUid, etcdUid);
  const workers = [
    ["w1", 2, w1Ip],
    ["w2", 3, w2Ip],
  ] as const;
  const machines: MachineRecord[] = [cp];
  for (const [name, index, ip] of workers) {
    const id = newMachineId();
    execFileSync("sh", [join(root, "deploy/tls/make-certs.sh"), tlsDir, "--hosts", ip ?? "", "--machine", id, "--no-control-plane"], { stdio: "ignore" });
    const w = install(name, index, block, ["fleet-agent.service"], { "ca.pem": "ca.pem", "machine.pem": `${id}.pem`, "machine.key": `${id}.key` }, { "fleet-agent.service": `Environment=FLEET_METRICS_LISTEN=${ip}:49701` });
    writeFileSync(join(w.fs, "etc/machine-id"), `${id}\n`);
    machines.push({ ...w, machineId: id });
  }
  const state: ClusterState = {
    version: 1,
    cluster: `deploy${process.pid}`,
    stateDir,
    repoRoot: root,
    createdAt: new Date().toISOString(),
    detached: false,
    status: "up",
    agentTtlSeconds: 5,
    reconcileIntervalSeconds: 5,
    addressBlock: block,
    endpoints: {},
    components: [],
    machines,
  };
  writeState(state);
  cluster = new ClusterHandle(state);
  for (const m of machines) await bootMachine(m, { repoRoot: root });
  writeState(state);
  await Promise.all(machines.map((m) => waitMachineReady(m, 60_000)));
  writeState(state);
  env = {
    ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith("FLEET"))),
    FLEETCTL_ENDPOINT: `${cpIp}:49500`,
    FLEETCTL_CA_FILE: join(tlsDir, "ca.pem"),
    FLEETCTL_TOKEN: token,
  };
  try {
    await waitFor(
      "both workers listed",
      async () => {
        const r = await fleetctl(env, "list-machines", "--no-legend", "--full");
        return r.code === 0 && r.stdout.trim().split("\n").length === 2;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
  } catch (err) {
    // What each machine's systemd says, for whoever reads the failure.
    const said = await Promise.all(machines.map(async (m) => `--- ${m.name}:\n${(await sh(m.name, "systemctl --failed --no-pager; journalctl -u 'fleet-*' -n 15 --no-pager -o cat")).stdout}`));
    throw new Error(`${(err as Error).message}\n${said.join("\n")}`);
  }
}, 240_000);

afterAll(async () => {
  if (rootMode !== undefined) chmodSync(root, rootMode);
  // FLEET_E2E_KEEP=1 leaves the machines up for a look (fleet-dev down --state-dir ... stops them).
  if (process.env.FLEET_E2E_KEEP === undefined) await cluster?.stop();
});

describe("deploy/systemd on sandbox machines", () => {
  it("runs the control plane as hardened systemd services, ordered after etcd and NATS, ready when they serve", async () => {
    for (const unit of ["etcd", "nats-server", "fleet-registry-gateway", "fleet-engine", "fleet-api"]) expect(await isActive("cp", unit), unit).toBe("active");
    const exposure = (await sh("cp", "systemd-analyze security --no-pager fleet-api.service | tail -1")).stdout;
    const score = Number(/Overall exposure level for fleet-api\.service: ([\d.]+)/.exec(exposure)?.[1]);
    console.log(`systemd-analyze security fleet-api.service: ${exposure.trim()}`);
    expect(score).toBeLessThan(3);
    // Not root, with its key as a credential only it reads.
    expect((await sh("cp", "ps -o user= -p $(systemctl show -p MainPID --value fleet-api)")).stdout.trim()).not.toBe("root");
    const ready = await fetch(`http://${cpIp}:49502/readyz`);
    expect(ready.status).toBe(200);
  });

  it("fleetctl starts a unit on a worker; a worker lost moves it to the other", async () => {
    const r = await fleetctl(env, "start", files.write("hello.service", "[Service]\nExecStart=/bin/sleep infinity\n"));
    expect(r.code, r.stderr).toBe(0);
    const on = async () => ((await isActive("w1", "hello.service")) === "active" ? "w1" : (await isActive("w2", "hello.service")) === "active" ? "w2" : undefined);
    const first = await waitFor("hello.service active on a worker", on, { timeoutMs: 30_000, intervalMs: 250 });
    const other = first === "w1" ? "w2" : "w1";
    await killMachine(cluster.machine(first));
    await waitFor(`hello.service active on ${other}`, async () => (await isActive(other, "hello.service")) === "active", { timeoutMs: 60_000, intervalMs: 500 });
    expect((await fleetctl(env, "list-machines", "--no-legend")).stdout.trim().split("\n")).toHaveLength(1);
  });
});

// The sandbox's own fault tools, end to end: fleet-dev partition/heal of a machine, and
// fleet-dev kill/restart of each control-plane component by name, on a cluster of two
// machines with a 3-member etcd and two registry-gateways.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, RegistryServiceClient, unary } from "@fleet/wire";
import { etcdGet, etcdHealthy, etcdMembers, isAlive, splitHostPort, tcpAccepts, waitFor, type ClusterHandle } from "@fleet/launcher";
import { fleetctl } from "./fleetctl.js";
import { startTestCluster } from "./sandbox.js";

const AGENT_TTL = 5;
const fleetDevBin = fileURLToPath(new URL("../../tools/fleet-dev/bin/fleet-dev.js", import.meta.url));
let cluster: ClusterHandle;
const timings: string[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real fleet-dev, on this test's cluster. */
function fleetDev(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [fleetDevBin, ...args, "--state-dir", cluster.stateDir], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Can a process inside the machine (in its cgroup, as its units are: systemd-run, not
 * nsenter, which stays in the host's cgroup) open a TCP connection to host:port? */
async function reachableFrom(machine: string, address: string): Promise<boolean> {
  const { host, port } = splitHostPort(address);
  const probe = `timeout 10 bash -c '</dev/tcp/${host}/${port}' 2>/dev/null && echo reachable || echo unreachable`;
  const r = await cluster.exec(machine, ["systemd-run", "--wait", "--pipe", "-q", "--collect", "/bin/bash", "-c", probe]);
  if (!/reachable/.test(r.stdout)) throw new Error(`probe in ${machine} failed: ${r.stdout} ${r.stderr}`);
  return r.stdout.trim() === "reachable";
}

async function agentMainPid(machine: string): Promise<string> {
  return (await cluster.exec(machine, ["systemctl", "show", "-p", "MainPID", "--value", "fleet-agent.service"])).stdout.trim();
}

/** Every registered machine's agent endpoint, through the first gateway that answers. */
async function agentEndpoints(): Promise<Map<string, string>> {
  for (const gw of cluster.endpoints.gateways ?? []) {
    const client = connect(RegistryServiceClient, gw);
    try {
      const res = await unary(client.listMachines.bind(client), { minRevision: 0 }, { deadlineMs: 3_000 });
      return new Map(res.machines.map((m) => [m.id, m.agentEndpoint]));
    } catch {
      continue;
    } finally {
      client.close();
    }
  }
  throw new Error("no gateway answered");
}

const registered = async (machine: string) => (await cluster.registeredMachineIds()).has(cluster.machine(machine).machineId);

beforeAll(async () => {
  cluster = await startTestCluster("faults", [{ name: "m1" }, { name: "m2" }], { etcdMembers: 3, gateways: 2 });
});

afterAll(async () => {
  if (timings.length) console.log(`sandbox-faults timings:\n  ${timings.join("\n  ")}`);
  await cluster?.stop({ removeState: true });
});

describe("the cluster's shape", () => {
  it("three etcd members and two gateways, named, and every gateway handed to engines, api and agents", async () => {
    const names = cluster.state.components.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["etcd-1", "etcd-2", "etcd-3", "nats", "registry-gateway-1", "registry-gateway-2", "engine-1", "engine-2", "api"]));
    expect(cluster.endpoints.gateways).toHaveLength(2);
    expect(cluster.endpoints.gateway).toBe(cluster.endpoints.gateways?.[0]);
    expect(cluster.endpoints.etcdServers).toHaveLength(3);
    const list = cluster.endpoints.gateways?.join(",");
    expect(cluster.env.FLEET_GATEWAY_ENDPOINT).toBe(list);
    for (const c of cluster.state.components.filter((x) => x.kind === "engine" || x.kind === "api")) expect(c.env?.FLEET_GATEWAY_ENDPOINT).toBe(list);
    for (const c of cluster.state.components.filter((x) => x.kind === "registry-gateway")) expect(c.env?.FLEET_ETCD_SERVERS).toBe(cluster.endpoints.etcdServers?.join(","));
    const agentEnv = await cluster.exec("m1", ["cat", "/etc/fleet/agent.env"]);
    expect(agentEnv.stdout).toContain(`FLEET_GATEWAY_ENDPOINT=${list}\n`);
    const members = await etcdMembers(cluster.endpoints.etcd ?? "");
    expect(members.map((m) => m.name).sort()).toEqual(["etcd-1", "etcd-2", "etcd-3"]);
  });
});

describe("fleet-dev partition / heal", () => {
  it("cuts the machine off while it and its agent keep running; heal brings it back within seconds", async () => {
    const gateways = cluster.endpoints.gateways ?? [];
    const endpoints = await agentEndpoints();
    const m1Agent = endpoints.get(cluster.machine("m1").machineId) ?? "";
    const m2Agent = endpoints.get(cluster.machine("m2").machineId) ?? "";
    expect(m2Agent.startsWith(`${cluster.machine("m2").publicIp}:`)).toBe(true);
    for (const gw of gateways) expect(await reachableFrom("m2", gw)).toBe(true);
    expect(await reachableFrom("m1", m2Agent)).toBe(true);
    const agentPid = await agentMainPid("m2");
    const pid1 = cluster.pid1("m2");

    const t0 = Date.now();
    const p = await fleetDev("partition", "m2");
    const applyWallMs = Date.now() - t0;
    expect(p.code).toBe(0);
    expect(p.stderr).toMatch(/machine m2 partitioned in \d+ ms \(iptables chain FLEET-faults\d+-m2\)/);
    timings.push(`partition: ${p.stderr.trim()} (fleet-dev wall ${applyWallMs} ms)`);

    // Again, through the handle (which reads what fleet-dev recorded): nothing to do.
    expect(await cluster.partition("m2")).toMatchObject({ already: true });
    const st = JSON.parse((await fleetDev("status", "--json")).stdout) as { machines: { name: string; partition?: { chain: string } }[] };
    expect(st.machines.find((m) => m.name === "m2")?.partition?.chain).toMatch(/^FLEET-faults\d+-m2$/);
    expect(st.machines.find((m) => m.name === "m1")?.partition).toBeUndefined();
    expect((await fleetDev("status")).stdout).toMatch(/m2\s.*alive, partitioned/);

    // Nothing gets out of m2 (gateways, the other machine), nothing gets in (host, m1).
    for (const gw of gateways) expect(await reachableFrom("m2", gw)).toBe(false);
    expect(await reachableFrom("m2", m1Agent)).toBe(false);
    expect(await reachableFrom("m1", m2Agent)).toBe(false);
    const { host, port } = splitHostPort(m2Agent);
    expect(await tcpAccepts(host, port)).toBe(false);
    // The rest of the cluster is not cut off.
    expect(await reachableFrom("m1", gateways[0] ?? "")).toBe(true);

    await waitFor("m2 to leave ListMachines", async () => !(await registered("m2")), { timeoutMs: (AGENT_TTL + 10) * 1000, intervalMs: 100 });
    const goneS = (Date.now() - t0) / 1000;
    timings.push(`m2 left ListMachines ${goneS.toFixed(1)} s after the partition (agent_ttl ${AGENT_TTL} s)`);
    expect(goneS).toBeLessThanOrEqual(AGENT_TTL + 6);
    expect(await registered("m1")).toBe(true);
    // Still running: its systemd, its agent (the same process), reachable from the host by nsenter.
    expect(cluster.pid1("m2")).toBe(pid1);
    expect((await cluster.exec("m2", ["systemctl", "is-active", "fleet-agent.service"])).stdout.trim()).toBe("active");
    expect(await agentMainPid("m2")).toBe(agentPid);

    const t1 = Date.now();
    const h = await fleetDev("heal", "m2");
    expect(h.code).toBe(0);
    expect(h.stderr).toMatch(/machine m2 healed in \d+ ms/);
    timings.push(`heal: ${h.stderr.trim()} (fleet-dev wall ${Date.now() - t1} ms)`);
    await waitFor("m2 registered again", () => registered("m2"), { timeoutMs: 15_000, intervalMs: 100 });
    const backS = (Date.now() - t1) / 1000;
    timings.push(`m2 registered again ${backS.toFixed(1)} s after the heal was asked for`);
    expect(backS).toBeLessThanOrEqual(10);
    for (const gw of gateways) expect(await reachableFrom("m2", gw)).toBe(true);
    expect(await agentMainPid("m2")).toBe(agentPid);

    const again = await fleetDev("heal", "m2");
    expect(again).toMatchObject({ code: 0 });
    expect(again.stderr).toContain("machine m2 is not partitioned; nothing to do");
  });

  it("refuses machines it does not know, and machines named like a component at up", async () => {
    const r = await fleetDev("partition", "m9");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no machine m9");
    const up = await fleetDev("up", "--machine", "etcd-2");
    expect(up.code).toBe(2);
    expect(up.stderr).toContain("machine name etcd-2 is taken by a component");
  });
});

async function etcdPut(endpoint: string, key: string, value: string): Promise<void> {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const res = await fetch(`${endpoint}/v3/kv/put`, { method: "POST", body: JSON.stringify({ key: b64(key), value: b64(value) }), signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`put ${key}: HTTP ${res.status}`);
}

describe("fleet-dev kill / restart of components", () => {
  it("each etcd member in turn: the other two keep a healthy quorum, the member rejoins and catches up", async () => {
    for (const name of ["etcd-1", "etcd-2", "etcd-3"]) {
      const member = cluster.reload().component(name);
      const others = cluster.state.components.filter((c) => c.kind === "etcd" && c.name !== name);
      const k = await fleetDev("kill", name);
      expect(k.code).toBe(0);
      expect(k.stderr).toContain(`${name} killed (SIGKILL to pid ${member.pid})`);
      expect(isAlive(member)).toBe(false);
      const t0 = Date.now();
      for (const o of others) {
        await waitFor(`${o.name} healthy without ${name}`, () => etcdHealthy((o.healthUrl ?? "").replace(/\/health$/, "")), { timeoutMs: 15_000, intervalMs: 100 });
      }
      timings.push(`${name} killed: the other two healthy after ${Date.now() - t0} ms`);
      // A write while it is down, which it must catch up on.
      const key = `/fleet-e2e/faults/${name}`;
      await etcdPut(others[0]?.address ?? "", key, `written while ${name} was down`);
      expect((await cluster.registeredMachineIds()).size).toBe(2);

      const t1 = Date.now();
      const r = await fleetDev("restart", name);
      expect(r.code).toBe(0);
      timings.push(`${name} restarted and healthy in ${Date.now() - t1} ms`);
      const again = cluster.reload().component(name);
      expect(again.pid).not.toBe(member.pid);
      expect(again.address).toBe(member.address);
      expect(again.argv).toContain("existing");
      expect(await etcdHealthy((again.healthUrl ?? "").replace(/\/health$/, ""))).toBe(true);
      await waitFor(`${name} caught up`, () => etcdGet(again.address ?? "", key, 2_000, { serializable: true }), { timeoutMs: 10_000 });
      expect((await etcdMembers(again.address ?? "")).map((m) => m.name).sort()).toEqual(["etcd-1", "etcd-2", "etcd-3"]);
    }
    await cluster.waitRegistered(30_000);
  });

  it("a gateway, an engine and the api by name; a running one is killed first; unknown names are refused", async () => {
    const gw1 = cluster.reload().component("registry-gateway-1");
    expect((await fleetDev("kill", "registry-gateway-1")).code).toBe(0);
    expect(isAlive(gw1)).toBe(false);
    expect((await fleetDev("kill", "registry-gateway-1")).code).toBe(1); // not running
    expect((await cluster.registeredMachineIds()).size).toBe(2); // through registry-gateway-2
    expect((await fleetDev("restart", "registry-gateway-1")).code).toBe(0);
    const gw1Again = cluster.reload().component("registry-gateway-1");
    expect(gw1Again.address).toBe(gw1.address);
    expect(isAlive(gw1Again)).toBe(true);

    const gw2 = cluster.component("registry-gateway-2");
    const r2 = await fleetDev("restart", "registry-gateway-2");
    expect(r2.code).toBe(0);
    expect(r2.stderr).toContain(`registry-gateway-2 is running (pid ${gw2.pid}): killing it first (SIGKILL)`);
    expect(cluster.reload().component("registry-gateway-2").pid).not.toBe(gw2.pid);

    const engine = cluster.component("engine-1");
    expect((await fleetDev("kill", "engine-1")).code).toBe(0);
    expect(isAlive(engine)).toBe(false);
    expect((await fleetDev("restart", "engine-1")).code).toBe(0);
    expect(isAlive(cluster.reload().component("engine-1"))).toBe(true);

    const env = cluster.env;
    expect((await fleetDev("kill", "api")).code).toBe(0);
    expect((await fleetctl(env, "list-machines", "--no-legend")).code).not.toBe(0);
    expect((await fleetDev("restart", "api")).code).toBe(0);
    await waitFor("fleetctl list-machines through the restarted api", async () => (await fleetctl(env, "list-machines", "--no-legend", "--full")).stdout.split("\n").filter(Boolean).length === 2, {
      timeoutMs: 15_000,
    });

    const bad = await fleetDev("kill", "registry-gateway-3");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("no machine or component registry-gateway-3");
    expect(bad.stderr).toMatch(/machines m1, m2; components etcd-1, etcd-2, etcd-3, nats, registry-gateway-1, registry-gateway-2, engine-1, engine-2, api/);
  });
});

// Last: it reboots m2, whose agent then starts without any gateway it can reach.
describe("fleet-dev restart of a partitioned machine", () => {
  it("a partitioned machine restarted stays partitioned (rules made for its new boot) until healed", async () => {
    expect((await fleetDev("partition", "m2")).code).toBe(0);
    const r = await fleetDev("restart", "m2");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("machine m2 is running: killing it first");
    expect(r.stderr).toMatch(/machine m2 is partitioned: rules made again for its new boot in \d+ ms/);
    const gateway = cluster.reload().endpoints.gateway ?? "";
    expect(await reachableFrom("m2", gateway)).toBe(false);
    await waitFor("m2 to leave ListMachines", async () => !(await registered("m2")), { timeoutMs: (AGENT_TTL + 10) * 1000, intervalMs: 200 });
    expect((await cluster.exec("m2", ["systemctl", "is-active", "fleet-agent.service"])).stdout.trim()).toBe("active");
    const t0 = Date.now();
    expect(await cluster.heal("m2")).toMatchObject({ wasPartitioned: true });
    expect(await reachableFrom("m2", gateway)).toBe(true);
    // Its agent never reached a gateway since it started: it must connect now.
    await cluster.waitRegistered(15_000);
    timings.push(`m2 (partitioned since boot) registered ${((Date.now() - t0) / 1000).toFixed(1)} s after the heal`);
  });
});

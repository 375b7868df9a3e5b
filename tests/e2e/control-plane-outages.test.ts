// Control-plane trouble never stops, restarts or moves a unit (issue: fleet #1289, #1181).
// A sandbox cluster with a 3-member etcd and two registry-gateways runs 60 units; each part of
// the control plane is taken down for 3 x agent_ttl (or killed member by member), and after
// recovery every unit must be active exactly once, on the machine it was on, with the same
// MainPID, checked with systemctl inside every machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, waitFor, type ClusterHandle } from "@fleet/launcher";
import { fleetctl, listUnits } from "./fleetctl.js";
import { describeRunning, duplicates, runningUnits } from "./machine-units.js";
import { startTestCluster, unitWriter } from "./sandbox.js";

const AGENT_TTL_MS = 5000;
const OUTAGE_MS = 3 * AGENT_TTL_MS;
const UNITS = 60;
let cluster: ClusterHandle;
let env: Record<string, string>;
const files = unitWriter("outages");
const unitBody = "[Unit]\nDescription=e2e %n\n\n[Service]\nExecStart=/bin/sh -c 'while true; do sleep 1; done'\n";

/** Every unit active exactly once (as the machines say), then the lines to compare. */
async function steadyRunning(): Promise<string[]> {
  let lines: string[] = [];
  await waitFor(
    `all ${UNITS} units active once`,
    async () => {
      const running = await runningUnits(cluster, "outage-*.service");
      const dups = duplicates(running);
      if (dups.length > 0) throw new Error(`active on two machines: ${dups.join("; ")}`);
      if (running.size !== UNITS) throw new Error(`${running.size} of ${UNITS} active`);
      lines = describeRunning(running);
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  return lines;
}

/** fleet agrees: every unit's state reported again (states die with a lapsed lease). */
async function fleetSeesAllActive(): Promise<void> {
  await waitFor(
    "fleet to report every unit active",
    async () => {
      const rows = (await listUnits(env)).filter((u) => u.unit.startsWith("outage-"));
      const active = rows.filter((u) => u.active === "active").length;
      if (active !== UNITS) throw new Error(`fleet reports ${active} of ${UNITS} active`);
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

/**
 * Takes the components down for the outage, brings them back, and checks that the machines run
 * exactly what they ran before, with the same MainPIDs, also once the grace period has passed.
 */
async function survives(components: readonly string[], outageMs = OUTAGE_MS): Promise<void> {
  const before = await steadyRunning();
  for (const c of components) await cluster.killComponent(c, "SIGKILL");
  // Sampled during the outage too: nothing may stop or start while the control plane is away.
  const deadline = Date.now() + outageMs;
  while (Date.now() < deadline) {
    const running = await runningUnits(cluster, "outage-*.service");
    expect(duplicates(running)).toEqual([]);
    expect(describeRunning(running)).toEqual(before);
    await sleep(1000);
  }
  await Promise.all(components.map((c) => cluster.restartComponent(c)));
  await fleetSeesAllActive();
  // Past every grace period the engine gives after a gap in its view.
  await sleep(AGENT_TTL_MS + 2000);
  expect(await steadyRunning()).toEqual(before);
  await fleetSeesAllActive();
}

beforeAll(async () => {
  cluster = await startTestCluster("outage", [{ name: "m1" }, { name: "m2" }, { name: "m3" }], { etcdMembers: 3, gateways: 2 });
  env = cluster.env;
  const paths = Array.from({ length: UNITS }, (_, i) => files.write(`outage-${String(i).padStart(2, "0")}.service`, unitBody));
  const r = await fleetctl(env, "start", ...paths);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await cluster?.stop({ removeState: true });
});

describe("control-plane outages of 3 x agent_ttl move and stop nothing", () => {
  it("every etcd member down", () => survives(["etcd-1", "etcd-2", "etcd-3"]));
  it("NATS down", () => survives(["nats"]));
  it("every registry-gateway down (every lease lapses)", () => survives(["registry-gateway-1", "registry-gateway-2"]));
  it("every engine down", () => survives(["engine-1", "engine-2"]));
  it("the api down", () => survives(["api"]));
  it("everything at once: etcd, NATS, gateways, engines and the api", () =>
    survives(["api", "engine-1", "engine-2", "registry-gateway-1", "registry-gateway-2", "nats", "etcd-1", "etcd-2", "etcd-3"]));
});

describe("a 3-member etcd: any member killed and restarted, the leader included", () => {
  it("each member in turn: clients fail over, nothing moves, and fleet keeps answering", async () => {
    const before = await steadyRunning();
    for (const member of ["etcd-1", "etcd-2", "etcd-3"]) {
      await cluster.killComponent(member, "SIGKILL");
      // The cluster keeps working on two members: a write and a read through fleet.
      const unit = files.write(`member-${member}.service`, unitBody);
      const r = await fleetctl(env, "start", unit);
      expect({ stderr: r.stderr, code: r.code }).toEqual({ stderr: "", code: 0 });
      await sleep(AGENT_TTL_MS);
      await cluster.restartComponent(member);
      expect(describeRunning(await runningUnits(cluster, "outage-*.service"))).toEqual(before);
    }
    await fleetSeesAllActive();
    expect(await steadyRunning()).toEqual(before);
    for (const member of ["etcd-1", "etcd-2", "etcd-3"]) {
      await waitFor(`member-${member}.service running`, async () => (await listUnits(env)).some((u) => u.unit === `member-${member}.service` && u.active === "active"), {
        timeoutMs: 30_000,
      });
    }
  });
});

describe("two registry-gateways", () => {
  it("killing one changes nothing a user can see", async () => {
    const before = await steadyRunning();
    const listBefore = (await fleetctl(env, "list-units", "--no-legend", "--full")).stdout;
    await cluster.killComponent("registry-gateway-1", "SIGKILL");
    const r = await fleetctl(env, "start", files.write("after-gateway-kill.service", unitBody));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const list = await fleetctl(env, "list-units", "--no-legend", "--full");
    expect(list.code).toBe(0);
    // Compared field by field: a longer unit name widens the table's columns.
    const rows = (text: string) => text.trim().split("\n").map((line) => line.trim().split(/\s+/).join(" "));
    const after = new Set(rows(list.stdout));
    expect(rows(listBefore).filter((row) => !after.has(row))).toEqual([]);
    // Past agent_ttl: every agent kept its lease through the other gateway.
    await sleep(AGENT_TTL_MS + 2000);
    expect(await steadyRunning()).toEqual(before);
    const machines = await fleetctl(env, "list-machines", "--no-legend", "--full");
    for (const m of cluster.state.machines) expect(machines.stdout).toContain(m.machineId);
    await cluster.restartComponent("registry-gateway-1");
  });
});

// End to end on a sandbox cluster: 3 systemd-nspawn machines booting real systemd, each with an
// agent inside; etcd, NATS, a gateway, two engines and the api on the host. Driven with the real
// fleetctl; checked with systemctl inside the machines.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor, type ClusterHandle } from "@fleet/launcher";
import { fleetctl, listUnits } from "./fleetctl.js";
import { isActive as isActiveIn, machineName as machineNameOf, startTestCluster, unitWriter } from "./sandbox.js";

const AGENT_TTL = 5;
let cluster: ClusterHandle;
let env: Record<string, string>;
const units = unitWriter("units");
const unitFile = (name: string, body = "[Unit]\nDescription=e2e %n\n\n[Service]\nExecStart=/bin/sh -c 'while true; do echo tick; sleep 1; done'\n") => units.write(name, body);

const machineName = (id: string) => machineNameOf(cluster, id);

const isActive = (machine: string, unit: string) => isActiveIn(cluster, machine, unit);

async function runningOn(unit: string, notOn?: string): Promise<string | undefined> {
  const row = (await listUnits(env)).find((u) => u.unit === unit && u.active === "active" && u.sub === "running" && u.machine !== notOn);
  return row?.machine;
}

beforeAll(async () => {
  cluster = await startTestCluster("e2e", [{ name: "m1" }, { name: "m2" }, { name: "m3" }]);
  env = cluster.env;
});

afterAll(async () => {
  await cluster?.stop({ removeState: true });
});

describe("a unit's life on a sandbox cluster", () => {
  it("lists the three machines", async () => {
    const r = await fleetctl(env, "list-machines", "--no-legend", "--full");
    expect(r.code).toBe(0);
    for (const m of cluster.state.machines) expect(r.stdout).toContain(m.machineId);
  });

  let machine = "";
  it("start: runs under the real systemd of one machine and list-units shows it active/running", async () => {
    const r = await fleetctl(env, "start", unitFile("hello.service"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // As fleet 1.0: the new unit is reported submitted (inactive), then launched.
    expect(r.stdout).toMatch(/^Unit hello\.service inactive\nUnit hello\.service launched on [0-9a-f]{8}\.\.\.\/127\.0\.\d+\.\d+\n$/);
    const id = await waitFor("hello.service running", () => runningOn("hello.service"), { timeoutMs: 10_000 });
    machine = machineName(id);
    expect(await isActive(machine, "hello.service")).toBe("active");
    const others = cluster.state.machines.filter((m) => m.name !== machine);
    for (const m of others) expect(await isActive(m.name, "hello.service")).not.toBe("active");
  });

  it("stop: systemd reports it inactive", async () => {
    const r = await fleetctl(env, "stop", "hello.service");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Unit hello\.service loaded on [0-9a-f]{8}\.\.\.\/127\.0\.\d+\.\d+\n$/);
    await waitFor("hello.service inactive", async () => (await isActive(machine, "hello.service")) === "inactive", { timeoutMs: 10_000 });
  });

  it("destroy: gone from fleet and from every machine", async () => {
    const r = await fleetctl(env, "destroy", "hello.service");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Destroyed hello.service\n");
    const files = await fleetctl(env, "list-unit-files", "--no-legend");
    expect(files.stdout).not.toContain("hello.service");
    await waitFor(
      "unit file removed on its machine",
      async () => (await cluster.exec(machine, ["test", "-e", "/run/fleet/units/hello.service"])).code !== 0,
      { timeoutMs: 10_000 },
    );
    for (const m of cluster.state.machines) {
      expect(await isActive(m.name, "hello.service")).not.toBe("active");
      expect((await cluster.exec(m.name, ["test", "-e", "/run/systemd/system/hello.service"])).code).not.toBe(0);
    }
    const again = await fleetctl(env, "destroy", "hello.service");
    expect(again.code).not.toBe(0);
  });

  it("one start of several files: each created once, spread over the machines, all running", async () => {
    const names = Array.from({ length: 6 }, (_, i) => `many-${i}.service`);
    const paths = names.map((n) => unitFile(n));
    const r = await fleetctl(env, "start", ...paths);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.slice(0, 6)).toEqual(names.map((n) => `Unit ${n} inactive`));
    // "launched" lines come as the units get there (in argument order among those arriving together).
    expect(lines.slice(6).map((l) => l.replace(/ launched on .*/, "")).sort()).toEqual(names.map((n) => `Unit ${n}`));
    const rows = (await listUnits(env)).filter((u) => names.includes(u.unit));
    expect(rows.map((u) => `${u.unit} ${u.active}/${u.sub}`).sort()).toEqual(names.map((n) => `${n} active/running`));
    // Least-loaded placement spreads them.
    expect(new Set(rows.map((u) => u.machine)).size).toBe(3);
    for (const u of rows) expect(await isActive(machineName(u.machine), u.unit)).toBe("active");
    // Starting them again changes nothing.
    const again = await fleetctl(env, "start", ...paths);
    expect(again).toMatchObject({ code: 0, stderr: "" });
    expect(again.stdout).not.toContain("inactive");
    const destroyed = await fleetctl(env, "destroy", ...names);
    expect(destroyed.code).toBe(0);
  });

  it("an unknown unit is an error on stderr with a non-zero exit", async () => {
    const r = await fleetctl(env, "stop", "nope.service");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("nope.service");
  });

  it("start of a unit whose process exits at once fails as fleet 1.0's did: launched, but not active within 2 s", async () => {
    const r = await fleetctl(env, "start", unitFile("false.service", "[Service]\nExecStart=/bin/false\n"));
    expect(r.stdout).toMatch(/^Unit false\.service inactive\nUnit false\.service launched on [0-9a-f]{8}\.\.\.\/127\.0\.\d+\.\d+\n$/);
    if (r.code === 0) {
      // fleet 1.0's race, kept: systemd calls a simple service active as soon as it forked, and
      // on a loaded box that state can be what the machine reports when fleetctl looks (250 ms
      // after launched). Then the machine must report it failed right after.
      expect(r.stderr).toBe("");
      await waitFor(
        "false.service reported failed",
        async () => (await listUnits(env)).some((u) => u.unit === "false.service" && u.active === "failed") || undefined,
        { timeoutMs: 5_000 },
      );
      console.log("false.service was seen active before it failed (fleet 1.0's race)");
    } else {
      const error = "Failed to find an active unit false.service within 2s, err: Failed to fetch states within 2s";
      expect(r.stderr).toBe(`Error waiting for units: ${error}\nError waiting for systemd unit states, err: ${error}\n`);
      expect(r.code).toBe(1);
    }
    expect((await fleetctl(env, "destroy", "false.service")).code).toBe(0);
  });
});

describe("failures", () => {
  it("a unit whose machine dies runs on another machine within agent_ttl plus a few seconds", async () => {
    expect((await fleetctl(env, "start", unitFile("survivor.service"))).code).toBe(0);
    const first = await waitFor("survivor running", () => runningOn("survivor.service"), { timeoutMs: 10_000 });
    const victim = machineName(first);
    const killedAt = Date.now();
    await cluster.kill(victim);
    const second = await waitFor("survivor running elsewhere", () => runningOn("survivor.service", first), {
      timeoutMs: (AGENT_TTL + 10) * 1000,
      intervalMs: 100,
    });
    const elapsed = (Date.now() - killedAt) / 1000;
    expect(second).not.toBe(first);
    expect(await isActive(machineName(second), "survivor.service")).toBe("active");
    console.log(`failover took ${elapsed.toFixed(1)} s (agent_ttl ${AGENT_TTL} s)`);
  });

  it("killing the engine leader: the standby takes over and a new unit still gets scheduled", async () => {
    const leader = cluster.state.components
      .filter((c) => c.kind === "engine")
      .find((c) => readFileSync(c.logFile, "utf8").includes("elected engine leader"));
    expect(leader).toBeDefined();
    await cluster.killComponent(leader?.name ?? "", "SIGKILL");
    const r = await fleetctl(env, "start", unitFile("after-failover.service"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Unit after-failover.service launched on");
    const id = await waitFor("after-failover running", () => runningOn("after-failover.service"), { timeoutMs: 20_000 });
    expect(await isActive(machineName(id), "after-failover.service")).toBe("active");
  });

  it("with NATS down the cluster still converges, on its reconcile timers", async () => {
    await cluster.killComponent("nats", "SIGKILL");
    const r = await fleetctl(env, "start", unitFile("no-hints.service"));
    expect(r.code).toBe(0);
    const id = await waitFor("no-hints running", () => runningOn("no-hints.service"), { timeoutMs: 20_000 });
    expect(await isActive(machineName(id), "no-hints.service")).toBe("active");
    await cluster.restartComponent("nats");
  });

  it("a registry-gateway restart stops no unit and loses no desired state", async () => {
    const before = (await listUnits(env)).filter((u) => u.active === "active").map((u) => `${u.unit}@${u.machine}`).sort();
    await cluster.killComponent("registry-gateway", "SIGKILL");
    await cluster.restartComponent("registry-gateway");
    const r = await fleetctl(env, "start", unitFile("after-gateway.service"));
    expect(r.code).toBe(0);
    await waitFor("after-gateway running", () => runningOn("after-gateway.service"), { timeoutMs: 20_000 });
    const after = (await listUnits(env)).filter((u) => u.active === "active").map((u) => `${u.unit}@${u.machine}`);
    for (const unit of before) expect(after).toContain(unit);
  });

  it("an etcd restart loses no desired state, and units started afterwards still run", async () => {
    const before = (await fleetctl(env, "list-unit-files", "--no-legend", "--fields=unit,dstate")).stdout;
    await cluster.killComponent("etcd", "SIGKILL");
    await cluster.restartComponent("etcd");
    const r = await fleetctl(env, "start", unitFile("after-etcd.service"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    await waitFor("after-etcd running", () => runningOn("after-etcd.service"), { timeoutMs: 30_000 });
    const after = (await fleetctl(env, "list-unit-files", "--no-legend", "--fields=unit,dstate")).stdout;
    for (const line of before.trim().split("\n")) expect(after).toContain(line);
  });
});


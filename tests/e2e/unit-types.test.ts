// Every unit type fleet runs, end to end on a sandbox cluster: a service, a socket-activated
// service, a timer, a path unit, a target, a unit with an [Install] section, a unit that fails,
// and an agent restart that adopts what runs. Checked with systemctl inside the machines.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor, type ClusterHandle } from "@fleet/launcher";
import { fleetctl, listUnits } from "./fleetctl.js";
import { machineName as machineNameOf, startTestCluster, unitWriter } from "./sandbox.js";

let cluster: ClusterHandle;
let env: Record<string, string>;
const unitFile = unitWriter("types").write;

const machineName = (id: string) => machineNameOf(cluster, id);

async function machineOf(unit: string): Promise<string> {
  const id = await waitFor(`${unit} to be placed`, async () => (await listUnits(env)).find((u) => u.unit === unit)?.machine, { timeoutMs: 15_000 });
  return machineName(id);
}

async function sh(machine: string, script: string): Promise<{ stdout: string; code: number }> {
  const r = await cluster.exec(machine, ["sh", "-c", script]);
  return { stdout: r.stdout.trim(), code: r.code };
}

async function ok(...args: string[]): Promise<string> {
  const r = await fleetctl(env, ...args);
  expect(r.stderr, `fleetctl ${args.join(" ")}`).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  cluster = await startTestCluster("types", [{ name: "t1" }, { name: "t2" }]);
  env = cluster.env;
});

afterAll(async () => {
  await cluster?.stop({ removeState: true });
});

describe("unit types", () => {
  it("a socket-activated service starts on the first connection, on the socket's machine", async () => {
    const port = await freePort();
    await ok("load", "--no-block", unitFile("echo.service", "[Service]\nExecStart=/bin/sh -c 'touch /run/echo-activated; exec sleep infinity'\n\n[X-Fleet]\nMachineOf=echo.socket\n"));
    await ok("start", unitFile("echo.socket", `[Socket]\nListenStream=127.0.0.1:${port}\n`));
    const machine = await machineOf("echo.socket");
    expect(await machineOf("echo.service")).toBe(machine);
    expect((await sh(machine, "systemctl is-active echo.socket")).stdout).toBe("active");
    expect((await sh(machine, "systemctl is-active echo.service")).stdout).toBe("inactive");
    // Connect (the machines share the host's network namespace).
    expect((await cluster.exec(machine, ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}; sleep 0.3`])).code).toBe(0);
    await waitFor("socket activation", async () => (await sh(machine, "systemctl is-active echo.service")).stdout === "active", { timeoutMs: 10_000 });
    expect((await sh(machine, "test -e /run/echo-activated")).code).toBe(0);
  });

  it("a timer fires its service", async () => {
    await ok("load", "--no-block", unitFile("tick.service", "[Service]\nType=oneshot\nExecStart=/bin/touch /run/tick-fired\n\n[X-Fleet]\nMachineOf=tick.timer\n"));
    await ok("start", unitFile("tick.timer", "[Timer]\nOnActiveSec=1\nAccuracySec=1ms\n"));
    const machine = await machineOf("tick.timer");
    expect((await sh(machine, "systemctl is-active tick.timer")).stdout).toMatch(/^(active|inactive)$/);
    await waitFor("timer to fire", async () => (await sh(machine, "test -e /run/tick-fired")).code === 0, { timeoutMs: 15_000 });
  });

  it("a path unit starts its service when the path appears", async () => {
    await ok("load", "--no-block", unitFile("watch.service", "[Service]\nType=oneshot\nExecStart=/bin/touch /run/watch-fired\n\n[X-Fleet]\nMachineOf=watch.path\n"));
    await ok("start", unitFile("watch.path", "[Path]\nPathExists=/run/watch-trigger\n"));
    const machine = await machineOf("watch.path");
    expect((await sh(machine, "systemctl is-active watch.path")).stdout).toBe("active");
    expect((await sh(machine, "touch /run/watch-trigger")).code).toBe(0);
    await waitFor("path unit to fire", async () => (await sh(machine, "test -e /run/watch-fired")).code === 0, { timeoutMs: 15_000 });
  });

  it("a target can be started", async () => {
    await ok("start", unitFile("group.target", "[Unit]\nDescription=a group of units\n"));
    const machine = await machineOf("group.target");
    await waitFor("target active", async () => (await sh(machine, "systemctl is-active group.target")).stdout === "active", { timeoutMs: 10_000 });
  });

  it("a unit with an [Install] section is enabled at runtime once loaded", async () => {
    await ok("load", unitFile("installed.service", "[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n"));
    const machine = await machineOf("installed.service");
    expect((await sh(machine, "systemctl is-enabled installed.service")).stdout).toBe("enabled-runtime");
    expect((await sh(machine, "systemctl is-active installed.service")).stdout).toBe("inactive");
    await ok("destroy", "installed.service");
    await waitFor("disabled and gone", async () => (await sh(machine, "systemctl is-enabled installed.service")).code !== 0, { timeoutMs: 10_000 });
  });

  it("a unit that fails shows failed, as systemctl says", async () => {
    // As fleet 1.0's start: launched, but not active within 2 s, so the start fails. Or fleet
    // 1.0's race (as in cluster.test.ts): systemd calls a simple service active as soon as it
    // forked, and on a loaded box that can be the state fleetctl reads 250 ms after launched;
    // the start then succeeds, and the unit shows failed right after all the same.
    const start = await fleetctl(env, "start", unitFile("broken.service", "[Service]\nExecStart=/bin/false\n"));
    if (start.code === 0) expect(start.stderr).toBe("");
    else {
      expect(start.code).toBe(1);
      expect(start.stderr).toContain("Error waiting for systemd unit states, err: Failed to find an active unit broken.service within 2s");
    }
    await waitFor(
      "broken.service failed",
      async () => {
        const row = (await listUnits(env)).find((u) => u.unit === "broken.service");
        return row?.active === "failed" && row.sub === "failed";
      },
      { timeoutMs: 10_000 },
    );
    const machine = await machineOf("broken.service");
    expect((await sh(machine, "systemctl is-failed broken.service")).stdout).toBe("failed");
  });

  it("an agent that restarts adopts its running units: same process, no duplicate", async () => {
    await ok("start", unitFile("steady.service", "[Service]\nExecStart=/bin/sleep infinity\n"));
    const machine = await machineOf("steady.service");
    await waitFor("steady running", async () => (await sh(machine, "systemctl is-active steady.service")).stdout === "active", { timeoutMs: 10_000 });
    const pid = (await sh(machine, "systemctl show -p MainPID --value steady.service")).stdout;
    expect((await sh(machine, "systemctl restart fleet-agent")).code).toBe(0);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await sh(machine, "systemctl show -p MainPID --value steady.service")).stdout).toBe(pid);
    const rows = (await listUnits(env)).filter((u) => u.unit === "steady.service");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ active: "active", sub: "running" });
  });
});

// Unit-file and [X-Fleet] rules exactly as fleet 1.0 (issue 9, items 2, 5 and 6), on a sandbox
// cluster of two machines whose metadata names them (hostname=r1, hostname=r2):
//   - a backslash continuation is stored and hashed as fleet stores it, and systemd on the
//     machine runs the whole command;
//   - a Global unit with Conflicts=X runs on every machine except X's, also after X's machine
//     is killed (X moves, the global unit yields its new machine) and comes back;
//   - a template with MachineMetadata=hostname=%i is accepted, and each instance runs on the
//     machine its expanded value names.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor, type ClusterHandle } from "@fleet/launcher";
import { fleetctl, listUnits } from "./fleetctl.js";
import { isActive, startTestCluster, unitWriter } from "./sandbox.js";

let cluster: ClusterHandle;
let env: Record<string, string>;
let v1 = "";
const files = unitWriter("rules");
const MACHINES = ["r1", "r2"];
const SLEEP = "[Service]\nExecStart=/bin/sleep infinity\n";

const nameOf = (id: string): string => cluster.state.machines.find((m) => m.machineId === id)?.name ?? `?${id}`;

/** The sandbox machines where list-units shows the unit active. */
async function runningOn(unit: string): Promise<string[]> {
  return (await listUnits(env)).filter((u) => u.unit === unit && u.active === "active").map((u) => nameOf(u.machine)).sort();
}

/** Waits until list-units shows the unit active on exactly these machines, and systemd on each
 * running machine (`up`) agrees. */
async function expectRunningOn(unit: string, machines: string[], timeoutMs = 20_000, up = MACHINES): Promise<void> {
  await waitFor(`${unit} active on [${machines.join(", ")}]`, async () => ((await runningOn(unit)).join() === machines.join() ? true : undefined), { timeoutMs });
  await waitFor(`systemd agrees on ${unit}`, async () => {
    const states = await Promise.all(up.map(async (m) => [m, await isActive(cluster, m, unit)] as const));
    return states.every(([m, state]) => (state === "active") === machines.includes(m)) ? true : undefined;
  }, { timeoutMs });
}

async function start(name: string, body: string): Promise<void> {
  const r = await fleetctl(env, "start", "--no-block", files.write(name, body));
  expect(r.stderr, r.stderr).toBe("");
  expect(r.code).toBe(0);
}

async function put(name: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${v1}/units/${name}`, { method: "PUT", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  cluster = await startTestCluster(
    "rules",
    MACHINES.map((name) => ({ name, metadata: { hostname: name } })),
  );
  env = cluster.env;
  v1 = `${cluster.endpoints.apiHttp ?? ""}/fleet/v1`;
});

afterAll(async () => {
  await cluster?.stop({ removeState: true });
});

describe("backslash continuations (item 2)", () => {
  it("the issue's unit file is stored and hashed as fleet 1.0 stores it", async () => {
    const path = files.write("issue9.service", '[Service]\nExecStart=/bin/sh -c "echo a; \\\n  sleep 100000"\n');
    const submitted = await fleetctl(env, "submit", path);
    expect(submitted.stderr).toBe("");
    expect(submitted.code).toBe(0);
    const list = await fleetctl(env, "list-unit-files", "--no-legend", "--full", "--fields=unit,hash");
    // SHA1 of fleet's serialization, as fleet v1.0.0's own deserializer and serializer give it.
    expect(list.stdout).toMatch(/^issue9\.service\s+b49eb1304c5263f0de174f91186a3440b9a9f11b$/m);
    expect((await fleetctl(env, "cat", "issue9.service")).stdout).toBe('[Service]\nExecStart=/bin/sh -c "echo a; \\\n  sleep 100000"\n');
    expect((await fleetctl(env, "destroy", "issue9.service")).code).toBe(0);
  });

  it("systemd on the machine joins the lines and runs the whole command", async () => {
    await start(
      "cont.service",
      '[Service]\nExecStart=/bin/sh -c "echo first > /run/cont.marker; \\\n  echo second >> /run/cont.marker; \\\n  exec sleep infinity"\n',
    );
    const [machine = ""] = await waitFor("cont.service running", async () => {
      const on = await runningOn("cont.service");
      return on.length === 1 ? on : undefined;
    }, { timeoutMs: 20_000 });
    expect(await isActive(cluster, machine, "cont.service")).toBe("active");
    const marker = await waitFor("the marker", async () => {
      const r = await cluster.exec(machine, ["cat", "/run/cont.marker"]);
      return r.stdout.includes("second") ? r.stdout : undefined;
    }, { timeoutMs: 10_000 });
    expect(marker).toBe("first\nsecond\n");
    const execStart = (await cluster.exec(machine, ["systemctl", "show", "-p", "ExecStart", "--value", "cont.service"])).stdout;
    expect(execStart).toContain("argv[]=/bin/sh -c echo first > /run/cont.marker;    echo second >> /run/cont.marker;    exec sleep infinity ;");
    const main = (await cluster.exec(machine, ["systemctl", "show", "-p", "MainPID", "--value", "cont.service"])).stdout.trim();
    expect((await cluster.exec(machine, ["cat", `/proc/${main}/cmdline`])).stdout.split("\0").join(" ").trim()).toBe("sleep infinity");
  });

  it("the HTTP API takes a continuation as the original fleetctl sends it, and refuses any other line break", async () => {
    const ok = await put("http-cont.service", { desiredState: "inactive", options: [{ section: "Service", name: "ExecStart", value: "/bin/sh -c \"echo a; \\\n  sleep 1\"" }] });
    expect(ok.status).toBe(201);
    const bare = await put("http-bare.service", { desiredState: "inactive", options: [{ section: "Service", name: "ExecStart", value: "/bin/true\nExecStartPost=/bin/false" }] });
    expect(bare.status).toBe(400);
    expect(bare.text).toContain("line break that is not a continuation");
  });
});

describe("Global with Conflicts (item 5)", () => {
  let xOn = "";

  it("a Global unit with Conflicts=X is accepted and runs on every machine except X's", async () => {
    await start("x.service", SLEEP);
    xOn = (await waitFor("x.service running", async () => {
      const on = await runningOn("x.service");
      return on.length === 1 ? on[0] : undefined;
    }, { timeoutMs: 20_000 })) ?? "";
    await start("g.service", `${SLEEP}\n[X-Fleet]\nGlobal=true\nConflicts=x.service\n`);
    const others = MACHINES.filter((m) => m !== xOn);
    await expectRunningOn("g.service", others);
  });

  it("the HTTP API accepts Global with Conflicts (fleet 1.0's ValidateOptions does)", async () => {
    const r = await put("g2.service", {
      desiredState: "inactive",
      options: [
        { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
        { section: "X-Fleet", name: "Global", value: "true" },
        { section: "X-Fleet", name: "Conflicts", value: "x.service" },
      ],
    });
    expect(r.status).toBe(201);
    const refused = await put("g3.service", {
      desiredState: "inactive",
      options: [
        { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
        { section: "X-Fleet", name: "Global", value: "true" },
        { section: "X-Fleet", name: "Replaces", value: "x.service" },
      ],
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("Global cannot be used with Replaces");
  });

  it("fault: X's machine is killed; X moves to the other machine and the global unit yields it; back, the machine runs the global unit", async () => {
    const other = MACHINES.find((m) => m !== xOn) ?? "";
    await cluster.kill(xOn);
    await expectRunningOn("x.service", [other], 40_000, [other]);
    await waitFor(`g.service stopped on ${other}`, async () => ((await isActive(cluster, other, "g.service")) !== "active" ? true : undefined), { timeoutMs: 20_000 });
    expect(await runningOn("g.service")).toEqual([]);

    await cluster.restartMachine(xOn);
    await cluster.waitRegistered(60_000, [xOn]);
    await expectRunningOn("g.service", [xOn], 60_000);
    expect(await runningOn("x.service")).toEqual([other]);
  });
});

describe("specifiers in a template's X-Fleet values (item 6)", () => {
  it("MachineMetadata=hostname=%i: the template is accepted and each instance runs on the machine it names", async () => {
    const template = files.write("meta@.service", `${SLEEP}\n[X-Fleet]\nMachineMetadata=hostname=%i\n`);
    const submitted = await fleetctl(env, "submit", template);
    expect(submitted.stderr).toBe("");
    expect(submitted.code).toBe(0);
    const r = await fleetctl(env, "start", "--no-block", `${files.dir}/meta@r1.service`, `${files.dir}/meta@r2.service`, `${files.dir}/meta@r9.service`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    await expectRunningOn("meta@r1.service", ["r1"]);
    await expectRunningOn("meta@r2.service", ["r2"]);
    const reason = await fleetctl(env, "list-unit-files", "--no-legend", "--fields=unit,reason");
    expect(reason.stdout).toMatch(/^meta@r9\.service\s.*hostname=r9/m);
    expect(await runningOn("meta@r9.service")).toEqual([]);
  });
});

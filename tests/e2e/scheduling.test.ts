// Placement on a sandbox cluster whose machines carry different metadata: one case per
// [X-Fleet] option, checked with list-units and with systemctl inside the chosen machine.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor, type ClusterHandle } from "@fleet/launcher";
import { connect, FleetServiceClient, unary } from "@fleet/wire";
import { fleetctl, listUnits } from "./fleetctl.js";
import { startTestCluster, unitWriter } from "./sandbox.js";

let cluster: ClusterHandle;
let env: Record<string, string>;
let api: FleetServiceClient;
const units = unitWriter("sched");
const dir = units.dir;
const service = (xfleet: string) => `[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\n${xfleet}\n`;

const unitFile = units.write;

const idOf = (name: string) => cluster.machine(name).machineId;
const nameOf = (id: string) => cluster.state.machines.find((m) => m.machineId === id)?.name ?? `?${id}`;

/** Where list-units says the unit runs (active), by sandbox machine name. */
async function runningOn(unit: string): Promise<string[]> {
  return (await listUnits(env)).filter((u) => u.unit === unit && u.active === "active").map((u) => nameOf(u.machine)).sort();
}

async function placedOn(unit: string, timeoutMs = 15_000): Promise<string> {
  const [machine] = await waitFor(`${unit} running`, async () => {
    const on = await runningOn(unit);
    return on.length > 0 ? on : undefined;
  }, { timeoutMs });
  expect((await cluster.exec(machine ?? "", ["systemctl", "is-active", unit])).stdout.trim()).toBe("active");
  return machine ?? "";
}

async function start(name: string, body: string): Promise<void> {
  const r = await fleetctl(env, "start", "--no-block", unitFile(name, body));
  expect(r.stderr, r.stderr).toBe("");
  expect(r.code).toBe(0);
}

beforeAll(async () => {
  cluster = await startTestCluster("sched", [
      { name: "s1", metadata: { region: "east", disk: "ssd" } },
      { name: "s2", metadata: { region: "east", disk: "hdd" } },
      { name: "s3", metadata: { region: "west", disk: "ssd" } },
    ]);
  env = cluster.env;
  api = connect(FleetServiceClient, env.FLEETCTL_ENDPOINT ?? "");
});

afterAll(async () => {
  api?.close();
  await cluster?.stop({ removeState: true });
});

describe("[X-Fleet] placement", () => {
  it("MachineMetadata: one key", async () => {
    await start("west.service", service("MachineMetadata=region=west"));
    expect(await placedOn("west.service")).toBe("s3");
  });

  it("MachineMetadata: different keys are AND", async () => {
    await start("east-ssd.service", service("MachineMetadata=region=east\nMachineMetadata=disk=ssd"));
    expect(await placedOn("east-ssd.service")).toBe("s1");
  });

  it("the deprecated X-ConditionMachineMetadata works as MachineMetadata", async () => {
    await start("old-style.service", service('X-ConditionMachineMetadata="disk=hdd"'));
    expect(await placedOn("old-style.service")).toBe("s2");
  });

  it("MachineID: only that machine", async () => {
    await start("pinned.service", service(`MachineID=${idOf("s2")}`));
    expect(await placedOn("pinned.service")).toBe("s2");
  });

  it("MachineOf: follows its target", async () => {
    await start("db.service", service("MachineMetadata=region=west"));
    await start("app.service", service("MachineOf=db.service"));
    expect(await placedOn("app.service")).toBe(await placedOn("db.service"));
  });

  it("Conflicts: instances of a template never share a machine", async () => {
    unitFile("web@.service", service("Conflicts=web@*.service"));
    const r = await fleetctl(env, "start", "--no-block", join(dir, "web@1.service"), join(dir, "web@2.service"), join(dir, "web@3.service"));
    expect(r.code).toBe(0);
    const machines = await Promise.all(["web@1.service", "web@2.service", "web@3.service"].map((u) => placedOn(u)));
    expect(new Set(machines).size).toBe(3);
  });

  it("Global: runs on every machine that matches, and no other", async () => {
    await start("agentish.service", "[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nGlobal=true\nMachineMetadata=region=east\n");
    const on = await waitFor("global on s1 and s2", async () => {
      const m = await runningOn("agentish.service");
      return m.length === 2 ? m : undefined;
    }, { timeoutMs: 15_000 });
    expect(on).toEqual(["s1", "s2"]);
    expect((await cluster.exec("s3", ["systemctl", "is-active", "agentish.service"])).stdout.trim()).not.toBe("active");
  });

  it("Global with another placement option is refused at submit", async () => {
    const r = await fleetctl(env, "submit", unitFile("bad-global.service", service("Global=true\nMachineID=" + idOf("s1"))));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Global/);
    expect((await fleetctl(env, "list-unit-files", "--no-legend")).stdout).not.toContain("bad-global.service");
  });

  it("a unit no machine can take stays unplaced, and the API says why", async () => {
    await start("nowhere.service", service("MachineMetadata=region=north"));
    const reason = await waitFor("a reason", async () => {
      const res = await unary(api.getUnit.bind(api), { name: "nowhere.service" });
      return res.unit?.reason || undefined;
    }, { timeoutMs: 10_000 });
    expect(reason).toContain("region=north");
    expect(await runningOn("nowhere.service")).toEqual([]);
  });

  it("a unit moves when its machine's metadata no longer qualifies", async () => {
    await start("follows-ssd.service", service("MachineMetadata=disk=ssd\nMachineMetadata=region=west"));
    expect(await placedOn("follows-ssd.service")).toBe("s3");
    await unary(api.setMachineMetadata.bind(api), { machineId: idOf("s3"), set: { region: "east" }, remove: [] });
    await unary(api.setMachineMetadata.bind(api), { machineId: idOf("s1"), set: { region: "west" }, remove: [] });
    await waitFor("moved to s1", async () => (await runningOn("follows-ssd.service")).join() === "s1", { timeoutMs: 20_000 });
  });

  it("Replaces: the new unit takes the old one's machine and the old one moves", async () => {
    await start("legacy.service", "[Service]\nExecStart=/bin/sleep infinity\n");
    const before = await placedOn("legacy.service");
    await start("modern.service", service("Replaces=legacy.service"));
    await waitFor("modern on legacy's old machine", async () => (await runningOn("modern.service")).join() === before, { timeoutMs: 20_000 });
    await waitFor("legacy moved", async () => {
      const on = await runningOn("legacy.service");
      return on.length === 1 && on[0] !== before;
    }, { timeoutMs: 20_000 });
  });
});

// End to end through fleet's HTTP API v1 on a sandbox cluster: a unit started with PUT runs
// under a machine's real systemd; /state and systemctl agree; metadata PATCHes and DELETE work;
// `fleetctl --endpoint http://…` (and unix:///…) drives the common commands; and over gRPC,
// status, restart and `journal -f` (which must receive a line printed after it started).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor, type ClusterHandle } from "@fleet/launcher";
import { isActive as isActiveIn, machineName as machineNameOf, startTestCluster } from "./sandbox.js";
import { fleetctl } from "./fleetctl.js";

let cluster: ClusterHandle;
let env: Record<string, string>;
let v1 = "";
const dir = mkdtempSync(join(tmpdir(), "fleet-e2e-http-"));
const FLEETCTL = fileURLToPath(new URL("../../clients/fleetctl/bin/fleetctl", import.meta.url));
const LOOP = "/bin/sh -c 'while true; do echo tick; sleep 1; done'";

beforeAll(async () => {
  cluster = await startTestCluster("http", [{ name: "h1" }, { name: "h2" }]);
  env = cluster.env;
  const http = cluster.endpoints.apiHttp;
  if (!http) throw new Error("the cluster's api serves no HTTP API v1 (testkit endpoints.apiHttp)");
  v1 = `${http}/fleet/v1`;
});

afterAll(async () => {
  await cluster?.stop({ removeState: true });
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${v1}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const machineName = (id: string) => machineNameOf(cluster, id);

const isActive = (machine: string, unit: string) => isActiveIn(cluster, machine, unit);

interface UnitStateEntity {
  name: string;
  machineID: string;
  systemdActiveState: string;
}

describe("a sandbox cluster driven only through HTTP API v1", () => {
  let machineId = "";

  it("PUT starts a unit: /state reports it active and systemd on its machine agrees", async () => {
    const options = [
      { section: "Unit", name: "Description", value: "started over HTTP" },
      { section: "Service", name: "ExecStart", value: LOOP },
    ];
    expect(await call("PUT", "/units/web.service", { desiredState: "launched", options })).toEqual({ status: 201, body: undefined });
    const state = await waitFor(
      "web.service active in /state",
      async () => {
        const page = (await call("GET", "/state?unitName=web.service")).body as { states?: UnitStateEntity[] };
        return page.states?.find((s) => s.systemdActiveState === "active");
      },
      { timeoutMs: 20_000 },
    );
    machineId = state.machineID;
    expect(await isActive(machineName(machineId), "web.service")).toBe("active");
    const unit = await waitFor("currentState launched", async () => {
      const r = (await call("GET", "/units/web.service")).body as { currentState?: string; machineID?: string };
      return r.currentState === "launched" ? r : undefined;
    }, { timeoutMs: 10_000 });
    expect(unit).toMatchObject({ name: "web.service", desiredState: "launched", currentState: "launched", machineID: machineId });
  });

  it("lists both machines and PATCHes metadata onto one", async () => {
    const page = (await call("GET", "/machines")).body as { machines: { id: string; primaryIP: string }[] };
    expect(page.machines.map((m) => m.id).sort()).toEqual(cluster.state.machines.map((m) => m.machineId).sort());
    expect((await call("PATCH", "/machines", [{ op: "add", path: `/${machineId}/metadata/role`, value: "web" }])).status).toBe(204);
    await waitFor("metadata visible", async () => {
      const ms = ((await call("GET", "/machines")).body as { machines: { id: string; metadata?: Record<string, string> }[] }).machines;
      return ms.find((m) => m.id === machineId)?.metadata?.["role"] === "web";
    }, { timeoutMs: 10_000 });
  });

  it("refuses bad input and leaves the running unit alone", async () => {
    expect((await call("PUT", "/units/web.service", { desiredState: "stopped" })).status).toBe(400);
    expect((await call("PUT", "/units/web.service", "not an object")).status).toBe(400);
    expect((await call("GET", "/units/web.service")).body).toMatchObject({ desiredState: "launched" });
    expect(await isActive(machineName(machineId), "web.service")).toBe("active");
  });

  it("PUT inactive stops and unloads it; DELETE removes it (204, then 404)", async () => {
    expect((await call("PUT", "/units/web.service", { desiredState: "inactive" })).status).toBe(204);
    await waitFor("web.service stopped", async () => (await isActive(machineName(machineId), "web.service")) !== "active", { timeoutMs: 15_000 });
    expect((await call("DELETE", "/units/web.service")).status).toBe(204);
    expect((await call("DELETE", "/units/web.service")).status).toBe(404);
    expect((await call("GET", "/units")).body).toEqual({});
  });
});

describe("fleetctl --endpoint http://… (HTTP API v1)", () => {
  const http = (...args: string[]) => fleetctl(env, "--endpoint", cluster.endpoints.apiHttp ?? "", ...args);
  let unitFile = "";

  it("list-machines shows every machine", async () => {
    const r = await http("list-machines", "--no-legend", "--full");
    expect(r.code).toBe(0);
    for (const m of cluster.state.machines) expect(r.stdout).toContain(m.machineId);
  });

  it("start launches a unit file and waits, as over gRPC", async () => {
    unitFile = join(dir, "api1.service");
    writeFileSync(unitFile, `[Unit]\nDescription=e2e over HTTP\n\n[Service]\nExecStart=${LOOP}\n`);
    const r = await http("start", unitFile);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Unit api1\.service inactive\nUnit api1\.service launched on [0-9a-f]{8}\.\.\.\/127\.0\.\d+\.\d+\n$/);
  });

  it("list-units, list-unit-files and cat show it", async () => {
    await waitFor("api1 active in list-units", async () => (await http("list-units", "--no-legend")).stdout.includes("active"), { timeoutMs: 15_000 });
    const units = await http("list-units", "--no-legend", "--fields=unit,active,sub");
    expect(units.stdout).toMatch(/^api1\.service\s+active\s+running\n$/);
    const files = await http("list-unit-files", "--no-legend", "--fields=unit,dstate,state");
    expect(files.stdout).toMatch(/^api1\.service\s+launched\s+launched\n$/);
    expect((await http("cat", "api1.service")).stdout).toBe(`[Unit]\nDescription=e2e over HTTP\n\n[Service]\nExecStart=${LOOP}\n`);
  });

  it("stop and destroy over the unix socket", async () => {
    const socket = join(cluster.stateDir, "fleet.sock");
    const endpoint = existsSync(socket) ? `unix://${socket}` : (cluster.endpoints.apiHttp ?? "");
    const stop = await fleetctl(env, "--endpoint", endpoint, "stop", "api1.service");
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/^Unit api1\.service loaded on /);
    const destroy = await fleetctl(env, "--endpoint", endpoint, "destroy", "api1.service");
    expect(destroy).toMatchObject({ code: 0, stdout: "Destroyed api1.service\n" });
    expect((await http("destroy", "api1.service")).code).not.toBe(0);
  });
});

describe("status, restart and journal -f through the api (no ssh)", () => {
  const SAY = "/run/fleet-e2e-say";
  let machine = "";

  it("status prints systemctl status of the unit on its machine", async () => {
    const file = join(dir, "talker.service");
    writeFileSync(file, `[Service]\nExecStart=/bin/sh -c 'echo talker up; while true; do if [ -e ${SAY} ]; then echo "said $(cat ${SAY})"; rm -f ${SAY}; fi; sleep 0.2; done'\n`);
    expect((await fleetctl(env, "start", file)).code).toBe(0);
    const r = await fleetctl(env, "status", "talker.service");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("talker.service");
    expect(r.stdout).toMatch(/Active: active \(running\)/);
    const view = (await call("GET", "/units/talker.service")).body as { machineID: string };
    machine = machineName(view.machineID);
  });

  it("restart stops and starts it again", async () => {
    const before = (await cluster.exec(machine, ["systemctl", "show", "-p", "ExecMainPID", "--value", "talker.service"])).stdout.trim();
    const r = await fleetctl(env, "restart", "talker.service");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Unit talker\.service loaded on .*\nUnit talker\.service launched on .*\n$/);
    // fleet 1.0's log line, on stderr.
    expect(r.stderr).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d INFO restart\.go:100: Unit\(talker\.service\) was restarted\.\n$/);
    await waitFor("talker active again", async () => (await isActive(machine, "talker.service")) === "active", { timeoutMs: 10_000 });
    const after = (await cluster.exec(machine, ["systemctl", "show", "-p", "ExecMainPID", "--value", "talker.service"])).stdout.trim();
    expect(after).not.toBe(before);
  });

  it("journal -f receives a line the unit prints after following started, and ends on Ctrl-C", async () => {
    const child = spawn(FLEETCTL, ["journal", "-f", "--lines=5", "talker.service"], { env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await waitFor("the journal's first lines", () => out.includes("talker up"), { timeoutMs: 15_000 });
      const marker = `m${Date.now()}`;
      expect(out).not.toContain(marker);
      await cluster.exec(machine, ["sh", "-c", `echo ${marker} > ${SAY}`]);
      await waitFor(`"said ${marker}" followed`, () => out.includes(`said ${marker}`), { timeoutMs: 15_000 });
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    expect(err).toBe("");
  });
});

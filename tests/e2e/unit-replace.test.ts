// Replacing a unit's contents, end to end on a sandbox cluster (issue 9, item 1): fleet 1.0's
// PUT /fleet/v1/units/NAME with other options replaces the unit (201), its machine's systemd
// runs the new contents, a replacement that changes [X-Fleet] moves it, fleetctl start --replace
// keeps it on its machine, and a replacement made while the machine's agent is down (or killed
// right after) still ends with the new contents running once. Every unit appends its version
// to /run/<unit>.starts when it starts, so "once" is counted inside the machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unitHash, type UnitOption } from "@fleet/domain";
import { waitFor, type ClusterHandle } from "@fleet/launcher";
import { fleetctl } from "./fleetctl.js";
import { describeRunning, runningUnits } from "./machine-units.js";
import { startTestCluster, unitWriter } from "./sandbox.js";

let cluster: ClusterHandle;
let v1 = "";
const timings: string[] = [];
const files = unitWriter("replace");

beforeAll(async () => {
  cluster = await startTestCluster("replace", [
    { name: "r1", metadata: { role: "a" } },
    { name: "r2", metadata: { role: "b" } },
  ]);
  const http = cluster.endpoints.apiHttp;
  if (!http) throw new Error("the cluster's api serves no HTTP API v1");
  v1 = `${http}/fleet/v1`;
});

afterAll(async () => {
  if (timings.length) console.log(`unit-replace timings:\n  ${timings.join("\n  ")}`);
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

/** A unit that records each start of `version` and then runs until stopped. */
function options(unit: string, version: string, role: string): UnitOption[] {
  return [
    { section: "Unit", name: "Description", value: `replace test ${version}` },
    { section: "Service", name: "ExecStart", value: `/bin/sh -c 'echo ${version} >> /run/${unit}.starts; exec sleep infinity'` },
    { section: "X-Fleet", name: "MachineMetadata", value: `role=${role}` },
  ];
}

async function show(machine: string, unit: string): Promise<Record<string, string>> {
  const r = await cluster.exec(machine, ["systemctl", "show", "--property=ActiveState,MainPID,ExecStart,NeedDaemonReload,Description", unit]);
  return Object.fromEntries(r.stdout.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

/** The versions the unit's starts recorded on the machine, in order. */
async function starts(machine: string, unit: string): Promise<string[]> {
  const r = await cluster.exec(machine, ["sh", "-c", `cat /run/${unit}.starts 2>/dev/null || true`]);
  return r.stdout.split("\n").filter(Boolean);
}

/**
 * Waits until `version` of the unit runs on `machine` and nowhere else: systemd there runs the
 * new file (its Description, ExecStart, no pending daemon-reload), and the machine reported the
 * new contents' hash. Returns what systemd shows, and when it first showed it.
 */
async function runsVersion(unit: string, machine: string, version: string, opts: readonly UnitOption[], timeoutMs = 30_000): Promise<{ props: Record<string, string>; seenAt: number }> {
  const seen = await waitFor(
    `${unit} ${version} active on ${machine}`,
    async () => {
      const p = await show(machine, unit);
      const seenAt = Date.now();
      return p.ActiveState === "active" && p.Description === `replace test ${version}` && p.ExecStart?.includes(`echo ${version} `) ? { props: p, seenAt } : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
  expect(seen.props.NeedDaemonReload).toBe("no");
  const machineId = cluster.machine(machine).machineId;
  await waitFor(
    `${machine} to report ${unit}'s new hash`,
    async () => {
      const page = (await call("GET", `/state?unitName=${unit}`)).body as { states?: Array<{ hash: string; machineID: string; systemdActiveState: string }> };
      const mine = page.states?.filter((s) => s.machineID === machineId && s.systemdActiveState === "active") ?? [];
      return mine.some((s) => s.hash === unitHash(opts));
    },
    { timeoutMs: 10_000, intervalMs: 200 },
  );
  // Only there, once the old machine (after a move: its agent's next pass) has stopped and
  // unloaded it: no other machine reports a state for it any more. (A glance at systemd alone
  // can fall in the moment the old machine restarts it with the new contents, before the move
  // reaches it: not running there then, running again a moment later.)
  const only = [`${unit} ${machine}`];
  const where = async () => describeRunning(await runningUnits(cluster, unit)).map((l) => l.split(" ").slice(0, 2).join(" "));
  const reportedElsewhere = async () => {
    const page = (await call("GET", `/state?unitName=${unit}`)).body as { states?: Array<{ machineID: string }> };
    return (page.states ?? []).some((s) => s.machineID !== machineId);
  };
  await waitFor(`${unit} running on ${machine} only`, async () => (!(await reportedElsewhere()) && JSON.stringify(await where()) === JSON.stringify(only) ? true : undefined), {
    timeoutMs: 15_000,
    intervalMs: 200,
  }).catch(() => undefined);
  expect(await where()).toEqual(only);
  return seen;
}

describe("HTTP API v1 replaces a running unit (fleet 1.0's PUT of other options)", () => {
  let firstPid = "";

  it("PUT of new contents: 201, the unit is restarted on its machine with them", async () => {
    const v1Options = options("rep.service", "v1", "a");
    expect(await call("PUT", "/units/rep.service", { desiredState: "launched", options: v1Options })).toEqual({ status: 201, body: undefined });
    firstPid = (await runsVersion("rep.service", "r1", "v1", v1Options)).props.MainPID ?? "";

    const t0 = Date.now();
    const v2Options = options("rep.service", "v2", "a");
    expect(await call("PUT", "/units/rep.service", { desiredState: "launched", options: v2Options })).toEqual({ status: 201, body: undefined });
    const v2 = await runsVersion("rep.service", "r1", "v2", v2Options);
    timings.push(`PUT of new contents to the new contents active on the same machine (systemctl show, polled every 100 ms): ${v2.seenAt - t0} ms`);
    expect(v2.props.MainPID).not.toBe(firstPid);
    expect(await starts("r1", "rep.service")).toEqual(["v1", "v2"]);
    expect((await call("GET", "/units/rep.service")).body).toMatchObject({
      desiredState: "launched",
      machineID: cluster.machine("r1").machineId,
      options: v2Options,
    });
  });

  it("the same contents again change nothing: 409 without a desired state, 204 with one, no restart", async () => {
    const v2Options = options("rep.service", "v2", "a");
    const before = await show("r1", "rep.service");
    expect((await call("PUT", "/units/rep.service", { options: v2Options })).status).toBe(409);
    expect((await call("PUT", "/units/rep.service", { desiredState: "launched", options: v2Options })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await show("r1", "rep.service")).MainPID).toBe(before.MainPID);
    expect(await starts("r1", "rep.service")).toEqual(["v1", "v2"]);
  });

  it("a replacement whose MachineMetadata only the other machine matches moves the unit there", async () => {
    const t0 = Date.now();
    const v3Options = options("rep.service", "v3", "b");
    expect((await call("PUT", "/units/rep.service", { desiredState: "launched", options: v3Options })).status).toBe(201);
    const moved = await runsVersion("rep.service", "r2", "v3", v3Options);
    timings.push(`replacement with other MachineMetadata to active on the other machine: ${moved.seenAt - t0} ms`);
    await waitFor("rep.service stopped on r1", async () => (await show("r1", "rep.service")).ActiveState !== "active", { timeoutMs: 15_000 });
    expect((await call("GET", "/units/rep.service")).body).toMatchObject({ machineID: cluster.machine("r2").machineId, currentState: "launched" });
    expect(await starts("r2", "rep.service")).toEqual(["v3"]);
  });
});

describe("fleetctl start --replace (FleetService.ReplaceUnit)", () => {
  it("replaces a running unit in place: same machine, new contents", async () => {
    const env = cluster.env;
    const body = (version: string) => `[Unit]\nDescription=replace test ${version}\n\n[Service]\nExecStart=/bin/sh -c 'echo ${version} >> /run/cli.service.starts; exec sleep infinity'\n`;
    const path = files.write("cli.service", body("c1"));
    const first = await fleetctl(env, "start", path);
    expect(first.code, first.stderr).toBe(0);
    const machine = await waitFor("cli.service active", async () => {
      for (const m of ["r1", "r2"]) if ((await show(m, "cli.service")).ActiveState === "active") return m;
      return undefined;
    }, { timeoutMs: 20_000 });
    files.write("cli.service", body("c2"));
    const r = await fleetctl(env, "start", "--replace", path);
    expect(r.code, r.stderr).toBe(0);
    await waitFor("c2 running", async () => (await show(machine, "cli.service")).Description === "replace test c2" && (await starts(machine, "cli.service")).includes("c2"), { timeoutMs: 20_000 });
    expect(await starts(machine, "cli.service")).toEqual(["c1", "c2"]);
    expect((await show(machine, "cli.service")).ActiveState).toBe("active");
    expect(describeRunning(await runningUnits(cluster, "cli.service")).map((l) => l.split(" ")[1])).toEqual([machine]);
  });
});

describe("replacing while the unit's agent is restarting", () => {
  const agentPid = async (machine: string) => (await cluster.exec(machine, ["systemctl", "show", "-p", "MainPID", "--value", "fleet-agent.service"])).stdout.trim();
  const killAgent = async (machine: string) => {
    const r = await cluster.exec(machine, ["systemctl", "kill", "--kill-who=main", "--signal=SIGKILL", "fleet-agent.service"]);
    expect(r.code, r.stderr).toBe(0);
  };

  it("the agent is killed, then the unit replaced: the agent comes back and runs the new contents, once", async () => {
    const before = await agentPid("r2");
    await killAgent("r2");
    const v4Options = options("rep.service", "v4", "b");
    expect((await call("PUT", "/units/rep.service", { desiredState: "launched", options: v4Options })).status).toBe(201);
    const t0 = Date.now();
    const v4 = await runsVersion("rep.service", "r2", "v4", v4Options, 60_000);
    timings.push(`replaced while r2's agent was down (SIGKILL, Restart=always, RestartSec=1): v4 active ${v4.seenAt - t0} ms after the PUT`);
    expect(await agentPid("r2")).not.toBe(before);
    // A few reconcile passes later, still started once.
    await new Promise((r) => setTimeout(r, 4000));
    expect(await starts("r2", "rep.service")).toEqual(["v3", "v4"]);
    expect((await show("r2", "rep.service")).ActiveState).toBe("active");
  });

  it("the unit is replaced, then its agent killed at once (mid-pass): the new contents run, once", async () => {
    const v5Options = options("rep.service", "v5", "b");
    const t0 = Date.now();
    expect((await call("PUT", "/units/rep.service", { desiredState: "launched", options: v5Options })).status).toBe(201);
    await killAgent("r2");
    const v5 = await runsVersion("rep.service", "r2", "v5", v5Options, 60_000);
    timings.push(`replaced, then r2's agent killed at once: v5 active ${v5.seenAt - t0} ms after the PUT`);
    await new Promise((r) => setTimeout(r, 4000));
    expect(await starts("r2", "rep.service")).toEqual(["v3", "v4", "v5"]);
    expect(describeRunning(await runningUnits(cluster, "rep.service")).map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual(["rep.service r2"]);
  });
});

// A sandbox cluster with auth on (fleet-dev up --auth): fleetctl and HTTP API v1 as each role
// would use them, units really started (or not) under the machine's systemd, tokens limited to
// unit globs, revocation, the audit log, the agent answering only about fleet's units, and what
// a gateway or api going down does to authentication (it fails closed, and tokens outlive it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterHandle } from "@fleet/launcher";
import { AgentServiceClient, connect, FleetError, RegistryServiceClient, unary } from "@fleet/wire";
import { fleetctl } from "./fleetctl.js";
import { isActive, startTestCluster, unitWriter } from "./sandbox.js";

let cluster: ClusterHandle;
let admin: Record<string, string>;
const files = unitWriter("auth");
const unit = (name: string) => files.write(name, "[Service]\nExecStart=/bin/sleep infinity\n");

async function tokenFor(role: string, ...extra: string[]): Promise<{ env: Record<string, string>; id: string; secret: string }> {
  const r = await fleetctl(admin, "token", "create", "--role", role, ...extra);
  expect(r.code, r.stderr).toBe(0);
  const secret = r.stdout.trim();
  return { env: { ...admin, FLEETCTL_TOKEN: secret }, id: r.stderr.trim(), secret };
}

const http = (path: string, token: string, init: RequestInit = {}) =>
  fetch(`${admin.FLEET_API_V1}/fleet/v1${path}`, { ...init, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(init.body ? { "Content-Type": "application/json" } : {}) } });

beforeAll(async () => {
  cluster = await startTestCluster("auth", [{ name: "a1" }], { auth: true });
  admin = cluster.env;
  expect(admin.FLEETCTL_TOKEN).toMatch(/^fleet_[0-9a-f]{12}_/);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe("a cluster with auth on", () => {
  it("refuses a caller without a token, on gRPC (one line, exit 1) and HTTP (401), and nothing starts", async () => {
    const anon = { ...admin, FLEETCTL_TOKEN: "" };
    const r = await fleetctl(anon, "start", unit("anon.service"));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("authentication required");
    expect((await http("/units", "")).status).toBe(401);
    expect(await isActive(cluster, "a1", "anon.service")).not.toBe("active");
  });

  it("a viewer reads, status included, and may not start; an operator starts and stops units on the machine", async () => {
    const viewer = await tokenFor("viewer");
    const operator = await tokenFor("operator");
    const refused = await fleetctl(viewer.env, "start", unit("v.service"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`token:${viewer.id} (role viewer) may not create v.service: that needs the operator role`);
    expect(await isActive(cluster, "a1", "v.service")).not.toBe("active");

    expect((await fleetctl(operator.env, "start", unit("op.service"))).code).toBe(0);
    expect(await isActive(cluster, "a1", "op.service")).toBe("active");
    const listed = await fleetctl(viewer.env, "list-units", "--no-legend");
    expect(listed.stdout).toContain("op.service");
    const status = await fleetctl(viewer.env, "status", "op.service");
    expect(status.stdout).toContain("Active: active (running)");
    expect((await fleetctl(viewer.env, "stop", "op.service")).code).toBe(1);
    expect(await isActive(cluster, "a1", "op.service")).toBe("active");
    expect((await fleetctl(operator.env, "token", "list")).code).toBe(1);
    expect((await fleetctl(operator.env, "destroy", "op.service")).code).toBe(0);
    expect(await isActive(cluster, "a1", "op.service")).not.toBe("active");
  });

  it("a token limited to web-* starts web units only, and sees only those", async () => {
    const web = await tokenFor("operator", "--units", "web-*");
    expect((await fleetctl(admin, "start", unit("db-1.service"))).code).toBe(0);
    expect((await fleetctl(web.env, "start", unit("web-1.service"))).code).toBe(0);
    const refused = await fleetctl(web.env, "start", unit("db-2.service"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("outside its units (web-*)");
    expect((await fleetctl(web.env, "destroy", "db-1.service")).code).toBe(1);
    expect(await isActive(cluster, "a1", "web-1.service")).toBe("active");
    expect(await isActive(cluster, "a1", "db-1.service")).toBe("active");
    expect(await isActive(cluster, "a1", "db-2.service")).not.toBe("active");
    const listed = await fleetctl(web.env, "list-unit-files", "--no-legend", "--fields=unit");
    expect(listed.stdout.trim().split("\n")).toEqual(["web-1.service"]);
  });

  it("a revoked token is refused on its next request", async () => {
    const t = await tokenFor("viewer");
    expect((await fleetctl(t.env, "list-machines")).code).toBe(0);
    expect((await fleetctl(admin, "token", "revoke", t.id)).stdout).toContain(`Revoked token ${t.id}`);
    const r = await fleetctl(t.env, "list-machines");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("revoked, lapsed or never made");
    expect((await http("/machines", t.secret)).status).toBe(401);
  });

  it("the audit log has every change made here, with who made it", async () => {
    const r = await fleetctl(admin, "audit", "--no-legend");
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split("\n").map((l) => l.split(/\t+/));
    const has = (action: string, target: string) => rows.some((row) => row[2] === action && row[3] === target && row[1]?.startsWith("token:"));
    for (const [action, target] of [
      ["create-unit", "op.service"],
      ["destroy-unit", "op.service"],
      ["create-unit", "web-1.service"],
    ] as const) expect(has(action, target), `${action} ${target} in\n${r.stdout}`).toBe(true);
    expect(rows.some((row) => row[1] === "bootstrap" && row[2] === "create-token")).toBe(true);
    expect(rows.some((row) => row[1] === "bootstrap" && row[2] === "revoke-token")).toBe(true);
    expect(rows.filter((row) => row[3] === "v.service" || row[3] === "db-2.service")).toEqual([]);
  });

  it("the machine's agent answers status only about units fleet placed there", async () => {
    // Where the agent serves AgentService, as its machine record says (this cluster has no
    // mutual TLS: the gateway answers the test directly).
    const gateway = connect(RegistryServiceClient, admin.FLEET_GATEWAY_ENDPOINT?.split(",")[0] ?? "");
    const { machines } = await unary(gateway.listMachines.bind(gateway), { minRevision: 0 }, { deadlineMs: 5000 });
    gateway.close();
    const agent = connect(AgentServiceClient, machines[0]?.agentEndpoint ?? "");
    try {
      const ok = await unary(agent.unitStatus.bind(agent), { unitName: "web-1.service" }, { deadlineMs: 5000 }).then(
        () => "ok",
        (e: unknown) => (e instanceof FleetError ? e.kind : String(e)),
      );
      const sshd = await unary(agent.unitStatus.bind(agent), { unitName: "sshd.service" }, { deadlineMs: 5000 }).then(
        () => "ok",
        (e: unknown) => (e instanceof FleetError ? e.kind : String(e)),
      );
      expect({ ok, sshd }).toEqual({ ok: "ok", sshd: "permission-denied" });
    } finally {
      agent.close();
    }
  });

  it("with the gateway down requests fail (never let through); tokens made before work once it is back, and after an api restart", async () => {
    const t = await tokenFor("viewer");
    await cluster.killComponent("registry-gateway", "SIGKILL");
    const down = await fleetctl({ ...t.env, FLEETCTL_REQUEST_TIMEOUT: "2" }, "list-units");
    expect(down.code).toBe(1);
    expect(await isActive(cluster, "a1", "web-1.service")).toBe("active");
    await cluster.restartComponent("registry-gateway");
    await cluster.killComponent("api", "SIGKILL");
    await cluster.restartComponent("api");
    const back = await fleetctl(t.env, "list-units", "--no-legend");
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain("web-1.service");
    expect((await fleetctl({ ...admin, FLEETCTL_TOKEN: "" }, "list-units")).code).toBe(1);
  });
});

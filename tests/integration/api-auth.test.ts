// The api with auth on, against a real registry-gateway on a real etcd and NATS: who may do what
// over gRPC (fleetctl's FleetService) and HTTP API v1, tokens limited to unit globs, revocation
// on the next request, lapsed tokens, and the audit log of every change. Anything refused
// changes nothing.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "@fleet/launcher";
import { connect, FleetError, FleetServiceClient, TargetState, unary, type AuditEntry, type UnaryOptions } from "@fleet/wire";
import { startApiStack, type ApiStack } from "./api-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "fleet-auth-"));
const ADMIN = `fleet_${"a".repeat(12)}_${"B".repeat(43)}`;
let stack: ApiStack | undefined;
let apiHttp = "";
let fleet: FleetServiceClient;

const M1 = "1".repeat(32);
const options = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
const unitMsg = (name: string) => ({ unit: { name, options, hash: "", desiredState: TargetState.TARGET_STATE_LOADED } });
const as = (token: string, requestId?: string): UnaryOptions => {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return { deadlineMs: 5000, headers, ...(requestId ? { requestId } : {}) };
};

/** The kind of error a call fails with, "ok" when it succeeds. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (err) {
    if (err instanceof FleetError) return err.kind;
    throw err;
  }
}

async function http(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: unknown; authenticate: string | null }> {
  const res = await fetch(`${apiHttp}${path}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, authenticate: res.headers.get("www-authenticate") };
}

async function createToken(role: string, units: string[] = [], ttlSeconds = 0): Promise<{ id: string; secret: string }> {
  const res = await unary(fleet.createToken.bind(fleet), { role, units, ttlSeconds }, as(ADMIN));
  return { id: res.token?.id ?? "", secret: res.secret };
}

const unitNames = async (token: string): Promise<string[]> =>
  (await unary(fleet.listUnits.bind(fleet), { offset: 0, limit: 0 }, as(token))).units.map((u) => u.unit?.name ?? "");

beforeAll(async () => {
  writeFileSync(join(dir, "admin.token"), `${ADMIN}\n`, { mode: 0o600 });
  stack = await startApiStack(dir, { api: { FLEET_AUTH: "true", FLEET_AUTH_BOOTSTRAP_TOKEN_FILE: join(dir, "admin.token") } });
  apiHttp = `http://${stack.httpAddress}/fleet/v1`;
  fleet = connect(FleetServiceClient, stack.grpcAddress);
  await waitFor("api to serve", async () => (await unitNames(ADMIN), true), { timeoutMs: 20_000 });
});

afterAll(async () => {
  fleet?.close();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a caller without credentials", () => {
  it("is refused on gRPC (UNAUTHENTICATED) and HTTP API v1 (401 with fleet's error entity), and changes nothing", async () => {
    expect(await outcome(unary(fleet.listUnits.bind(fleet), { offset: 0, limit: 0 }, as("")))).toBe("unauthenticated");
    expect(await outcome(unary(fleet.createUnit.bind(fleet), unitMsg("anon.service"), as("")))).toBe("unauthenticated");
    const r = await http("PUT", "/units/anon.service", "", { desiredState: "launched", options });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: 401, message: expect.stringMatching(/^authentication required: present a token/) } });
    expect(r.authenticate).toBe('Bearer realm="fleet"');
    expect((await http("GET", "/units", "")).status).toBe(401);
    expect((await http("GET", "/discovery.json", "")).status).toBe(401);
    expect(await unitNames(ADMIN)).not.toContain("anon.service");
  });

  it("with a token that is not one, or a well-formed one never made, is refused", async () => {
    expect(await outcome(unary(fleet.listMachines.bind(fleet), {}, as("hunter2")))).toBe("unauthenticated");
    expect(await outcome(unary(fleet.listMachines.bind(fleet), {}, as(`fleet_${"0".repeat(12)}_${"x".repeat(43)}`)))).toBe("unauthenticated");
    // The right id with the wrong secret.
    const { id } = await createToken("admin");
    expect(await outcome(unary(fleet.listMachines.bind(fleet), {}, as(`fleet_${id}_${"x".repeat(43)}`)))).toBe("unauthenticated");
  });
});

describe("roles", () => {
  const ops: Record<string, (token: string, n: number) => Promise<unknown>> = {
    "list units": (t) => unary(fleet.listUnits.bind(fleet), { offset: 0, limit: 0 }, as(t)),
    "list machines": (t) => unary(fleet.listMachines.bind(fleet), {}, as(t)),
    "list states": (t) => unary(fleet.listUnitStates.bind(fleet), { unitNames: [], machineId: "" }, as(t)),
    "get a unit": (t) => unary(fleet.getUnit.bind(fleet), { name: "seed.service" }, as(t)),
    "create a unit": (t, n) => unary(fleet.createUnit.bind(fleet), unitMsg(`made-${n}.service`), as(t)),
    "start a unit": (t) => unary(fleet.setUnitTargetState.bind(fleet), { name: "seed.service", desiredState: TargetState.TARGET_STATE_LAUNCHED }, as(t)),
    "destroy a unit": (t, n) => unary(fleet.destroyUnit.bind(fleet), { name: `doomed-${n}.service` }, as(t)),
    "change machine metadata": (t) => unary(fleet.setMachineMetadata.bind(fleet), { machineId: M1, set: { role: "web" }, remove: [] }, as(t)),
    "create a token": (t) => unary(fleet.createToken.bind(fleet), { role: "viewer", units: [], ttlSeconds: 0 }, as(t)),
    "list tokens": (t) => unary(fleet.listTokens.bind(fleet), {}, as(t)),
    "read the audit log": (t) => unary(fleet.listAudit.bind(fleet), { sinceMs: 0, unit: "", limit: 10 }, as(t)),
  };
  const allowed: Record<string, string[]> = {
    viewer: ["list units", "list machines", "list states", "get a unit"],
    operator: ["list units", "list machines", "list states", "get a unit", "create a unit", "start a unit", "destroy a unit"],
    admin: Object.keys(ops),
  };

  it.each(["viewer", "operator", "admin"])("%s: allowed what its role grants, PERMISSION_DENIED for the rest, and a refusal changes nothing", async (role) => {
    await unary(fleet.createUnit.bind(fleet), unitMsg("seed.service"), as(ADMIN)).catch(() => undefined);
    const { secret } = await createToken(role);
    const n = Math.floor(Math.random() * 1e9);
    await unary(fleet.createUnit.bind(fleet), unitMsg(`doomed-${n}.service`), as(ADMIN));
    const got: Record<string, string> = {};
    for (const [name, op] of Object.entries(ops)) got[name] = await outcome(op(secret, n));
    const want = Object.fromEntries(Object.keys(ops).map((name) => [name, allowed[role]?.includes(name) ? "ok" : "permission-denied"]));
    expect(got).toEqual(want);
    const units = await unitNames(ADMIN);
    expect(units.includes(`made-${n}.service`)).toBe(allowed[role]?.includes("create a unit"));
    expect(units.includes(`doomed-${n}.service`)).toBe(!allowed[role]?.includes("destroy a unit"));
  });

  it("hold on HTTP API v1 too: a viewer reads (200) and may not PUT (403); an operator PUTs (201)", async () => {
    const viewer = (await createToken("viewer")).secret;
    const operator = (await createToken("operator")).secret;
    expect((await http("GET", "/units", viewer)).status).toBe(200);
    const refused = await http("PUT", "/units/http-made.service", viewer, { desiredState: "launched", options });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: { code: 403, message: expect.stringMatching(/\(role viewer\) may not replace http-made\.service: that needs the operator role/) } });
    expect(await unitNames(ADMIN)).not.toContain("http-made.service");
    expect((await http("PUT", "/units/http-made.service", operator, { desiredState: "launched", options })).status).toBe(201);
    expect((await http("PATCH", "/machines", operator, [{ op: "add", path: `/${M1}/metadata/a`, value: "b" }])).status).toBe(403);
  });
});

describe("a token limited to unit globs", () => {
  it("changes and reads its units only, and lists show it only those (gRPC and HTTP)", async () => {
    await unary(fleet.createUnit.bind(fleet), unitMsg("db-1.service"), as(ADMIN));
    const web = (await createToken("operator", ["web-*"])).secret;
    expect(await outcome(unary(fleet.createUnit.bind(fleet), unitMsg("web-1.service"), as(web)))).toBe("ok");
    expect(await outcome(unary(fleet.createUnit.bind(fleet), unitMsg("db-2.service"), as(web)))).toBe("permission-denied");
    expect(await outcome(unary(fleet.destroyUnit.bind(fleet), { name: "db-1.service" }, as(web)))).toBe("permission-denied");
    expect(await outcome(unary(fleet.getUnit.bind(fleet), { name: "db-1.service" }, as(web)))).toBe("permission-denied");
    expect(await outcome(unary(fleet.createUnits.bind(fleet), { units: [unitMsg("web-2.service").unit, unitMsg("db-3.service").unit] }, as(web)))).toBe("permission-denied");
    expect(await unitNames(web)).toEqual(["web-1.service"]);
    const listed = (await http("GET", "/units", web)).body as { units: Array<{ name: string }> };
    expect(listed.units.map((u) => u.name)).toEqual(["web-1.service"]);
    expect((await http("DELETE", "/units/db-1.service", web)).status).toBe(403);
    const names = await unitNames(ADMIN);
    expect(names).toContain("db-1.service");
    expect(names).not.toContain("db-2.service");
    expect(names).not.toContain("web-2.service");
    // A scoped admin may not make itself a wider token.
    const scopedAdmin = (await createToken("admin", ["web-*"])).secret;
    expect(await outcome(unary(fleet.createToken.bind(fleet), { role: "admin", units: [], ttlSeconds: 0 }, as(scopedAdmin)))).toBe("permission-denied");
  });
});

describe("revocation and lapse", () => {
  it("a revoked token is refused on its next request, by id or by secret, over gRPC and HTTP", async () => {
    const a = await createToken("viewer");
    const b = await createToken("viewer");
    expect(await outcome(unary(fleet.listMachines.bind(fleet), {}, as(a.secret)))).toBe("ok");
    expect((await http("GET", "/machines", b.secret)).status).toBe(200);
    expect((await unary(fleet.revokeToken.bind(fleet), { token: a.id }, as(ADMIN))).id).toBe(a.id);
    expect((await unary(fleet.revokeToken.bind(fleet), { token: b.secret }, as(ADMIN))).id).toBe(b.id);
    expect(await outcome(unary(fleet.listMachines.bind(fleet), {}, as(a.secret)))).toBe("unauthenticated");
    expect((await http("GET", "/machines", b.secret)).status).toBe(401);
    expect(await outcome(unary(fleet.revokeToken.bind(fleet), { token: a.id }, as(ADMIN)))).toBe("not-found");
    const listed = (await unary(fleet.listTokens.bind(fleet), {}, as(ADMIN))).tokens.map((t) => t.id);
    expect(listed).not.toContain(a.id);
    expect(JSON.stringify(await unary(fleet.listTokens.bind(fleet), {}, as(ADMIN)))).not.toContain("secret");
  });

  it("a token made with a TTL is refused once it lapsed", async () => {
    const t = await createToken("viewer", [], 1);
    expect(await outcome(unary(fleet.listMachines.bind(fleet), {}, as(t.secret)))).toBe("ok");
    await new Promise((r) => setTimeout(r, 1500));
    expect(await outcome(unary(fleet.listMachines.bind(fleet), {}, as(t.secret)))).toBe("unauthenticated");
  });

  it("bad token requests are refused with INVALID_ARGUMENT and make nothing", async () => {
    const before = (await unary(fleet.listTokens.bind(fleet), {}, as(ADMIN))).tokens.length;
    expect(await outcome(unary(fleet.createToken.bind(fleet), { role: "root", units: [], ttlSeconds: 0 }, as(ADMIN)))).toBe("invalid-argument");
    expect(await outcome(unary(fleet.createToken.bind(fleet), { role: "viewer", units: ["web-[a"], ttlSeconds: 0 }, as(ADMIN)))).toBe("invalid-argument");
    expect(await outcome(unary(fleet.revokeToken.bind(fleet), { token: "nope" }, as(ADMIN)))).toBe("invalid-argument");
    expect((await unary(fleet.listTokens.bind(fleet), {}, as(ADMIN))).tokens.length).toBe(before);
  });
});

describe("the audit log", () => {
  it("records every change with who, what and the request id; refusals write nothing", async () => {
    const since = Date.now() - 1000;
    const op = await createToken("operator");
    await unary(fleet.createUnit.bind(fleet), unitMsg("audited.service"), as(op.secret, "req-create-1"));
    await unary(fleet.setUnitTargetState.bind(fleet), { name: "audited.service", desiredState: TargetState.TARGET_STATE_LAUNCHED }, as(op.secret, "req-start-1"));
    await http("PUT", "/units/audited-http.service", op.secret, { desiredState: "loaded", options });
    await unary(fleet.setMachineMetadata.bind(fleet), { machineId: M1, set: { disk: "ssd" }, remove: [] }, as(ADMIN, "req-meta-1"));
    await unary(fleet.destroyUnit.bind(fleet), { name: "audited.service" }, as(op.secret, "req-destroy-1"));
    await outcome(unary(fleet.destroyUnit.bind(fleet), { name: "audited-http.service" }, as((await createToken("viewer")).secret)));
    const entries: AuditEntry[] = (await unary(fleet.listAudit.bind(fleet), { sinceMs: since, unit: "", limit: 100 }, as(ADMIN))).entries;
    const seen = entries.map((e) => [e.who, e.action, e.unit || e.machineId, e.requestId, e.ok]);
    expect(seen).toEqual(
      expect.arrayContaining([
        [`token:${op.id}`, "create-unit", "audited.service", "req-create-1", true],
        [`token:${op.id}`, "set-unit-state", "audited.service", "req-start-1", true],
        [`token:${op.id}`, "create-unit", "audited-http.service", expect.any(String), true],
        ["bootstrap", "set-metadata", M1, "req-meta-1", true],
        [`token:${op.id}`, "destroy-unit", "audited.service", "req-destroy-1", true],
        ["bootstrap", "create-token", "", expect.any(String), true],
      ]),
    );
    expect(entries.filter((e) => e.unit === "audited-http.service" && e.action === "destroy-unit")).toEqual([]);
    const ofUnit = (await unary(fleet.listAudit.bind(fleet), { sinceMs: since, unit: "audited.service", limit: 100 }, as(ADMIN))).entries;
    expect(ofUnit.map((e) => e.action)).toEqual(["create-unit", "set-unit-state", "destroy-unit"]);
    expect(entries.every((e, i) => i === 0 || (entries[i - 1]?.atMs ?? 0) <= e.atMs)).toBe(true);
    // An admin limited to units reads the entries of those units only.
    const scoped = await createToken("admin", ["audited-*"]);
    const theirs = (await unary(fleet.listAudit.bind(fleet), { sinceMs: since, unit: "", limit: 100 }, as(scoped.secret))).entries;
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.filter((e) => !e.unit.startsWith("audited"))).toEqual([]);
  });
});

describe("auth off", () => {
  it("the api refuses to listen beyond loopback, naming the option", async () => {
    const child = spawn(process.execPath, [join(process.cwd(), "services", "api", "dist", "main.js")], {
      env: { ...process.env, FLEET_GATEWAY_ENDPOINT: "127.0.0.1:1", FLEET_API_LISTEN: `0.0.0.0:${await freePort()}`, FLEET_API_UNIX_SOCKET: "" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((r) => child.once("exit", r));
    expect(code).not.toBe(0);
    expect(stderr).toContain("api_listen 0.0.0.0:");
    expect(stderr).toContain("is not a loopback address: with auth off anyone who reaches the api is an admin");
  });
});

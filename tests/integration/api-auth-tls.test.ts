// The api with auth on and mutual TLS: a client certificate's common name maps to a role
// (auth_certificate_roles), so fleet 1.0's path, HTTP API v1 over https with --cert-file and
// --key-file, works with auth on; callers with a token need no certificate; certificates the
// CA did not sign, or names with no role, get nothing.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/launcher";
import { channelCredentials, configureTls, FleetServiceClient, unary, type FleetError } from "@fleet/wire";
import { makeCerts, makeClientCert, type TestCerts } from "./certs.js";
import { startApiStack, type ApiStack } from "./api-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "fleet-auth-tls-"));
const ADMIN = `fleet_${"c".repeat(12)}_${"D".repeat(43)}`;
let stack: ApiStack | undefined;
let certs: TestCerts;
let grpcAddress = "";
let httpsPort = 0;
const client: Record<string, { cert: string; key: string }> = {};
const options = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];

function https(method: string, path: string, who: { cert: string; key: string } | undefined, body?: unknown, token = ""): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: "127.0.0.1",
        port: httpsPort,
        method,
        path: `/fleet/v1${path}`,
        ca: readFileSync(certs.ca),
        ...(who ? { cert: readFileSync(who.cert), key: readFileSync(who.key) } : {}),
        headers: { ...(payload ? { "Content-Type": "application/json" } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** A client presenting `who`'s certificate (none: TLS without a client certificate). */
function grpcAs(who: { cert: string; key: string } | undefined): FleetServiceClient {
  configureTls({ certFile: who?.cert ?? "", keyFile: who?.key ?? "", caFile: certs.ca });
  const creds = channelCredentials();
  configureTls({ certFile: "", keyFile: "", caFile: "" });
  return new FleetServiceClient(grpcAddress, creds);
}

beforeAll(async () => {
  certs = makeCerts(dir);
  for (const cn of ["ops-admin", "ci", "stranger"]) client[cn] = makeClientCert(dir, certs, cn);
  // A certificate from another CA, with a name that has a role.
  const other = makeCerts(mkdtempSync(join(dir, "other-")));
  client.forged = makeClientCert(join(other.ca, ".."), other, "ops-admin");
  // The control plane under mutual TLS, the gateway included (one certificate for both here,
  // named "fleet": the gateway lets that identity in).
  const tls = { FLEET_TLS_CERT_FILE: certs.cert, FLEET_TLS_KEY_FILE: certs.key, FLEET_TLS_CA_FILE: certs.ca };
  writeFileSync(join(dir, "admin.token"), ADMIN, { mode: 0o600 });
  stack = await startApiStack(dir, {
    gateway: { FLEET_GATEWAY_CONTROL_PLANE_IDENTITIES: "fleet", ...tls },
    api: {
      FLEET_AUTH: "true",
      FLEET_AUTH_BOOTSTRAP_TOKEN_FILE: join(dir, "admin.token"),
      FLEET_AUTH_CERTIFICATE_ROLES: "ops-admin=admin,ci=operator",
      ...tls,
    },
  });
  grpcAddress = stack.grpcAddress;
  httpsPort = Number(stack.httpAddress.split(":")[1]);
  await waitFor(
    "api to serve https",
    async () => {
      const r = await https("GET", "/machines", client["ops-admin"]);
      if (r.status !== 200) throw new Error(`status ${r.status}: ${JSON.stringify(r.body)}`);
      return true;
    },
    { timeoutMs: 20_000 },
  );
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("HTTP API v1 over https with a client certificate (fleet 1.0's fleetctl --cert-file)", () => {
  it("a certificate whose name has a role gets what the role grants", async () => {
    expect((await https("PUT", "/units/by-ci.service", client.ci, { desiredState: "loaded", options })).status).toBe(201);
    expect((await https("PATCH", "/machines", client.ci, [{ op: "add", path: `/${"1".repeat(32)}/metadata/a`, value: "b" }])).status).toBe(403);
    const listed = (await https("GET", "/units", client["ops-admin"])).body as { units: Array<{ name: string }> };
    expect(listed.units.map((u) => u.name)).toContain("by-ci.service");
  });

  it("a name with no role is refused (403), no certificate and no token is 401, a token alone is enough", async () => {
    const r = await https("GET", "/units", client.stranger);
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: { code: 403, message: 'client certificate "stranger" has no role (auth_certificate_roles); present a token instead (Authorization: Bearer <token>; fleetctl --token or FLEETCTL_TOKEN)' } });
    expect((await https("GET", "/units", undefined)).status).toBe(401);
    expect((await https("GET", "/units", undefined, undefined, ADMIN)).status).toBe(200);
  });

  it("a certificate another CA signed counts for nothing", async () => {
    expect((await https("GET", "/units", client.forged)).status).toBe(401);
  });

  it("our fleetctl takes the same path: --endpoint https://... --ca-file --cert-file --key-file", async () => {
    const fleetctl = join(process.cwd(), "clients", "fleetctl", "bin", "fleetctl");
    const run = (who: string) =>
      promisify(execFile)(fleetctl, ["--endpoint", `https://127.0.0.1:${httpsPort}`, "--ca-file", certs.ca, "--cert-file", client[who]!.cert, "--key-file", client[who]!.key, "list-unit-files"], {
        env: { ...process.env, FLEETCTL_TOKEN: "" },
      });
    const ok = await run("ops-admin");
    expect(ok.stdout).toContain("by-ci.service");
    await expect(run("stranger")).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('client certificate "stranger" has no role') });
  });
});

describe("gRPC under mutual TLS with auth on", () => {
  it("a client certificate's role holds; a client with only a token (no certificate) gets in too", async () => {
    const ci = grpcAs(client.ci);
    const tokenOnly = grpcAs(undefined);
    try {
      const res = await unary(ci.listUnits.bind(ci), { offset: 0, limit: 0 }, { deadlineMs: 5000 });
      expect(res.units.map((u) => u.unit?.name)).toContain("by-ci.service");
      await expect(unary(ci.listTokens.bind(ci), {}, { deadlineMs: 5000 })).rejects.toMatchObject({ kind: "permission-denied" } satisfies Partial<FleetError>);
      await expect(unary(tokenOnly.listUnits.bind(tokenOnly), { offset: 0, limit: 0 }, { deadlineMs: 5000 })).rejects.toMatchObject({ kind: "unauthenticated" });
      const withToken = await unary(tokenOnly.listTokens.bind(tokenOnly), {}, { deadlineMs: 5000, headers: { authorization: `Bearer ${ADMIN}` } });
      expect(Array.isArray(withToken.tokens)).toBe(true);
    } finally {
      ci.close();
      tokenOnly.close();
    }
  });
});

// A sandbox cluster under mutual TLS with auth on (fleet-dev up --tls --auth), its certificates
// made by deploy/tls/make-certs.sh as docs/security.md tells an operator: fleet 1.0's way in
// (HTTP API v1 over https with a client certificate, no token), callers the api, the gateway
// and the agent must refuse, the machine's /var/run/fleet.sock relayed over TLS, and the
// gateway and the api restarting under it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launcherCredentials, repoRoot, waitFor, type ClusterHandle } from "@fleet/launcher";
import { AgentServiceClient, connect, credentials, FleetError, RegistryServiceClient, unary, type ChannelCredentials } from "@fleet/wire";
import { fleetctl } from "./fleetctl.js";
import { isActive, startTestCluster, unitWriter } from "./sandbox.js";

let cluster: ClusterHandle;
let env: Record<string, string>;
let tlsDir: string;
const files = unitWriter("mtls");

/** A file of the cluster's certificates directory. */
const pem = (name: string) => readFileSync(join(tlsDir, name));

/** HTTP API v1 over https, presenting the client certificate `identity` (or none) and no token. */
function https(method: string, path: string, identity: string | undefined, body?: unknown): Promise<{ status: number; body: string }> {
  const url = new URL(`${env.FLEET_API_V1}/fleet/v1${path}`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: pem("ca.pem"),
        ...(identity ? { cert: pem(`${identity}.pem`), key: pem(`${identity}.key`) } : {}),
        headers: payload ? { "Content-Type": "application/json" } : {},
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** gRPC credentials of a certificate in the cluster's directory (its CA trusted). */
const identityCredentials = (identity: string): ChannelCredentials => credentials.createSsl(pem("ca.pem"), pem(`${identity}.key`), pem(`${identity}.pem`));

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof FleetError ? e.kind : `error: ${(e as Error).message}`),
  );

beforeAll(async () => {
  cluster = await startTestCluster("mtls", [{ name: "t1" }], { auth: true, tls: true });
  env = cluster.env;
  tlsDir = cluster.state.tls?.dir ?? "";
  expect(env.FLEET_API_V1).toMatch(/^https:\/\//);
  // A person's certificate from the same CA that auth_certificate_roles gives no role, made the
  // documented way.
  execFileSync("sh", [join(repoRoot(), "deploy/tls/make-certs.sh"), tlsDir, "--client", "stranger", "--no-control-plane"]);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe("a cluster under mutual TLS with auth on", () => {
  it("fleet 1.0's way in: HTTP API v1 over https with an admin's client certificate and no token starts a unit on the machine", async () => {
    const options = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
    expect(await https("PUT", "/units/cert.service", "fleet-admin", { desiredState: "launched", options })).toMatchObject({ status: 201 });
    await waitFor("cert.service active on t1", async () => (await isActive(cluster, "t1", "cert.service")) === "active", { timeoutMs: 30_000, intervalMs: 250 });
    const listed = await fleetctl({ ...env, FLEETCTL_TOKEN: "" }, "--endpoint", env.FLEET_API_V1 ?? "", "list-units", "--no-legend");
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^cert\.service\t.*\tactive\trunning$/m);
  });

  it("refuses https without credentials (401), a certificate without a role (403), and plain http on the same port", async () => {
    const anonymous = await https("GET", "/units", undefined);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ error: { code: 401, message: expect.stringContaining("authentication required") } });
    const stranger = await https("PUT", "/units/stranger.service", "stranger", { desiredState: "launched", options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }] });
    expect(stranger.status).toBe(403);
    expect(JSON.parse(stranger.body).error.message).toContain('client certificate "stranger" has no role');
    expect((await https("GET", "/units/stranger.service", "fleet-admin")).status).toBe(404);
    await expect(fetch(`${env.FLEET_API_V1?.replace(/^https:/, "http:")}/fleet/v1/units`)).rejects.toThrow();
  });

  it("the agent answers AgentService only to the api's certificate; the gateway lets a machine's certificate act only for that machine", async () => {
    const gateway = connect(RegistryServiceClient, env.FLEET_GATEWAY_ENDPOINT?.split(",")[0] ?? "", launcherCredentials(cluster.state.tls));
    const { machines } = await unary(gateway.listMachines.bind(gateway), { minRevision: 0 }, { deadlineMs: 5000 });
    gateway.close();
    const [machine] = machines;
    if (!machine) throw new Error("no machine registered");
    const statusWith = async (creds: ChannelCredentials) => {
      const agent = connect(AgentServiceClient, machine.agentEndpoint, creds);
      try {
        return await outcome(unary(agent.unitStatus.bind(agent), { unitName: "cert.service" }, { deadlineMs: 5000 }));
      } finally {
        agent.close();
      }
    };
    // No certificate: the TLS handshake itself fails. A valid one that is not the api's: refused.
    expect(await statusWith(credentials.createSsl(pem("ca.pem")))).toMatch(/^unavailable|^error/);
    expect(await statusWith(identityCredentials("fleet-admin"))).toBe("permission-denied");
    expect(await statusWith(identityCredentials("fleet-api"))).toBe("ok");
    // What reaches the agent through the api (which presents fleet-api) works.
    expect((await fleetctl(env, "status", "cert.service")).stdout).toContain("Active: active (running)");

    const asMachine = connect(RegistryServiceClient, env.FLEET_GATEWAY_ENDPOINT?.split(",")[0] ?? "", identityCredentials(machine.id));
    const asPerson = connect(RegistryServiceClient, env.FLEET_GATEWAY_ENDPOINT?.split(",")[0] ?? "", identityCredentials("fleet-admin"));
    try {
      const other = "0123456789abcdef0123456789abcdef";
      expect(await outcome(unary(asMachine.getMachineSchedule.bind(asMachine), { machineId: machine.id, minRevision: 0 }, { deadlineMs: 5000 }))).toBe("ok");
      expect(await outcome(unary(asMachine.getMachineSchedule.bind(asMachine), { machineId: other, minRevision: 0 }, { deadlineMs: 5000 }))).toBe("permission-denied");
      expect(await outcome(unary(asMachine.reportUnitStates.bind(asMachine), { machineId: other, leaseId: "1", states: [], removed: [] }, { deadlineMs: 5000 }))).toBe("permission-denied");
      expect(await outcome(unary(asMachine.listUnits.bind(asMachine), { minRevision: 0, offset: 0, limit: 0 }, { deadlineMs: 5000 }))).toBe("permission-denied");
      expect(await outcome(unary(asPerson.listMachines.bind(asPerson), { minRevision: 0 }, { deadlineMs: 5000 }))).toBe("permission-denied");
    } finally {
      asMachine.close();
      asPerson.close();
    }
  });

  it("the machine's /var/run/fleet.sock relays HTTP API v1 and gRPC to the api over TLS; a token is still needed there", async () => {
    const onMachine = (...argv: string[]) => cluster.exec("t1", ["env", ...argv]);
    const http = await onMachine(`FLEETCTL_TOKEN=${env.FLEETCTL_TOKEN ?? ""}`, "fleetctl", "list-units", "--no-legend");
    expect(http.stdout).toContain("cert.service");
    const grpc = await onMachine(`FLEETCTL_TOKEN=${env.FLEETCTL_TOKEN ?? ""}`, "fleetctl", "--endpoint", "grpc+unix:///var/run/fleet.sock", "list-units", "--no-legend");
    expect(grpc.stdout).toContain("cert.service");
    // The relay presents the machine's certificate, which has no role: no token, no way in.
    const anonymous = await onMachine("fleetctl", "list-units");
    expect(anonymous.stdout).toBe("");
  });

  it("a gateway and an api killed and restarted: the agent reconnects over TLS and fleet 1.0's path works again", async () => {
    await cluster.killComponent("registry-gateway", "SIGKILL");
    await cluster.restartComponent("registry-gateway");
    await cluster.killComponent("api", "SIGKILL");
    await cluster.restartComponent("api");
    const options = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
    expect(await https("PUT", "/units/after.service", "fleet-admin", { desiredState: "launched", options })).toMatchObject({ status: 201 });
    await waitFor("after.service active on t1", async () => (await isActive(cluster, "t1", "after.service")) === "active", { timeoutMs: 60_000, intervalMs: 500 });
    expect(await isActive(cluster, "t1", "cert.service")).toBe("active");
    const started = await fleetctl(env, "start", files.write("grpc.service", "[Service]\nExecStart=/bin/sleep infinity\n"));
    expect(started.code, started.stderr).toBe(0);
    expect(await isActive(cluster, "t1", "grpc.service")).toBe("active");
  });
});

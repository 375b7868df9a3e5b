// The registry-gateway reaches an etcd that only speaks TLS and requires client certificates,
// with etcd_cafile, etcd_certfile and etcd_keyfile.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "@fleet/launcher";
import { connect, RegistryServiceClient, TargetState, unary } from "@fleet/wire";
import { makeCerts } from "./certs.js";
import { startService } from "./gateway-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "fleet-etcd-tls-"));
let etcd: ChildProcess;
let gateway: ChildProcess | undefined;
let client: RegistryServiceClient | undefined;
let etcdUrl = "";
let certs: ReturnType<typeof makeCerts>;

beforeAll(async () => {
  certs = makeCerts(dir);
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  etcdUrl = `https://127.0.0.1:${clientPort}`;
  etcd = spawn(
    "/usr/bin/etcd",
    [
      "--name", "tls", "--data-dir", join(dir, "data"),
      "--listen-client-urls", etcdUrl, "--advertise-client-urls", etcdUrl,
      "--listen-peer-urls", `http://127.0.0.1:${peerPort}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
      "--initial-cluster", `tls=http://127.0.0.1:${peerPort}`,
      "--cert-file", certs.cert, "--key-file", certs.key, "--trusted-ca-file", certs.ca, "--client-cert-auth",
    ],
    { stdio: "ignore" },
  );
});

afterAll(async () => {
  client?.close();
  for (const p of [gateway, etcd]) {
    if (p && p.exitCode === null) {
      p.kill("SIGTERM");
      await new Promise((r) => p.once("exit", r));
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

async function gatewayWith(env: Record<string, string>): Promise<{ proc: ChildProcess; client: RegistryServiceClient }> {
  const address = `127.0.0.1:${await freePort()}`;
  const proc = startService("registry-gateway", { FLEET_ETCD_SERVERS: etcdUrl, FLEET_NATS_SERVERS: "nats://127.0.0.1:1", FLEET_GATEWAY_LISTEN: address, FLEET_VERBOSITY: "warn", ...env });
  return { proc, client: connect(RegistryServiceClient, address) };
}

describe("etcd over TLS", () => {
  it("with the CA and a client certificate, the gateway stores and reads units", async () => {
    const g = await gatewayWith({ FLEET_ETCD_CAFILE: certs.ca, FLEET_ETCD_CERTFILE: certs.cert, FLEET_ETCD_KEYFILE: certs.key });
    gateway = g.proc;
    client = g.client;
    const c = g.client;
    const created = await waitFor(
      "the gateway to serve over etcd TLS",
      async () =>
        unary(c.createUnit.bind(c), {
          unit: { name: "tls.service", hash: "", desiredState: TargetState.TARGET_STATE_INACTIVE, options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }] },
        }, { deadlineMs: 1000 }),
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const got = await unary(c.getUnit.bind(c), { name: "tls.service", minRevision: created.revision });
    expect(got.unit?.name).toBe("tls.service");
  });

  it("a gateway whose etcd TLS files are inconsistent stops at start-up", async () => {
    const g = await gatewayWith({ FLEET_ETCD_CAFILE: certs.ca, FLEET_ETCD_CERTFILE: certs.cert });
    const code = await new Promise<number | null>((r) => g.proc.once("exit", r));
    g.client.close();
    expect(code).toBe(1);
  });
});

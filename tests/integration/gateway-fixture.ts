// A real etcd, a real NATS and a registry-gateway process on free loopback ports, for
// integration tests. Everything is stopped by the PIDs started here.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect as natsConnect, type NatsConnection } from "nats";
import { freePort, startEtcd, startNats, waitFor, type EtcdHandle, type NatsHandle } from "@fleet/launcher";
import { connect, RegistryServiceClient, unary } from "@fleet/wire";

const repo = fileURLToPath(new URL("../..", import.meta.url));

export interface GatewayFixture {
  etcd: EtcdHandle;
  nats: NatsHandle;
  gatewayAddress: string;
  client: RegistryServiceClient;
  natsClient: NatsConnection;
  stop(): Promise<void>;
}

export function startService(name: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [join(repo, "services", name, "dist", "main.js")], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return child;
}

/** etcd, NATS and a gateway (with `env`'s settings besides the fixture's) on loopback. */
export async function startGatewayFixture(env: Record<string, string> = {}): Promise<GatewayFixture> {
  const dir = mkdtempSync(join(tmpdir(), "fleet-it-"));
  const etcd = await startEtcd({ dir: join(dir, "etcd") });
  const nats = await startNats({ dir: join(dir, "nats") });
  const port = await freePort();
  const gatewayAddress = `127.0.0.1:${port}`;
  const gateway = startService("registry-gateway", {
    FLEET_ETCD_SERVERS: etcd.endpoint,
    FLEET_NATS_SERVERS: nats.url,
    FLEET_GATEWAY_LISTEN: gatewayAddress,
    FLEET_VERBOSITY: "warn",
    ...env,
  });
  const client = connect(RegistryServiceClient, gatewayAddress);
  const abort = async (err: unknown): Promise<never> => {
    // Stop what this fixture started before failing, so nothing outlives the test run.
    client.close();
    gateway.kill("SIGTERM");
    await nats.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  };
  await waitFor(
    "registry-gateway to serve",
    async () => {
      await unary(client.listMachines.bind(client), { minRevision: 0 }, { deadlineMs: 500 });
      return true;
    },
    { timeoutMs: 20_000 },
  ).catch(abort);
  const natsClient = await natsConnect({ servers: nats.url });
  return {
    etcd,
    nats,
    gatewayAddress,
    client,
    natsClient,
    async stop() {
      client.close();
      await natsClient.close();
      gateway.kill("SIGTERM");
      await new Promise((r) => gateway.once("exit", r));
      await nats.stop();
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

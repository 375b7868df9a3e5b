// A real etcd, NATS, registry-gateway and api on free loopback ports, for integration tests of
// the api; everything stopped by the PIDs started here. Extra environment per process (auth,
// TLS) comes from the test.
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { freePort, startEtcd, startNats, type EtcdHandle, type NatsHandle } from "@fleet/launcher";
import { startService } from "./gateway-fixture.js";

export interface ApiStack {
  readonly etcd: EtcdHandle;
  readonly nats: NatsHandle;
  readonly gateway: ChildProcess;
  readonly api: ChildProcess;
  readonly gatewayAddress: string;
  /** The api's gRPC host:port. */
  readonly grpcAddress: string;
  /** The api's HTTP API v1 host:port. */
  readonly httpAddress: string;
  /** Stops the api and the gateway, then etcd and NATS. */
  stop(): Promise<void>;
}

export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** Starts the stack in `dir`; the api serves gRPC and HTTP API v1 on TCP, no unix socket. */
export async function startApiStack(dir: string, env: { gateway?: Record<string, string>; api?: Record<string, string> } = {}): Promise<ApiStack> {
  const etcd = await startEtcd({ dir: join(dir, "etcd") });
  const nats = await startNats({ dir: join(dir, "nats") });
  const gatewayAddress = `127.0.0.1:${await freePort()}`;
  const gateway = startService("registry-gateway", {
    FLEET_ETCD_SERVERS: etcd.endpoint,
    FLEET_NATS_SERVERS: nats.url,
    FLEET_GATEWAY_LISTEN: gatewayAddress,
    FLEET_VERBOSITY: "warn",
    ...env.gateway,
  });
  const grpcAddress = `127.0.0.1:${await freePort()}`;
  const httpAddress = `127.0.0.1:${await freePort()}`;
  const api = startService("api", {
    FLEET_GATEWAY_ENDPOINT: gatewayAddress,
    FLEET_API_LISTEN: grpcAddress,
    FLEET_API_HTTP_LISTEN: httpAddress,
    FLEET_API_UNIX_SOCKET: "",
    FLEET_VERBOSITY: "warn",
    ...env.api,
  });
  return {
    etcd,
    nats,
    gateway,
    api,
    gatewayAddress,
    grpcAddress,
    httpAddress,
    async stop() {
      await Promise.all([stopChild(api), stopChild(gateway)]);
      await Promise.all([etcd.stop(), nats.stop()]);
    },
  };
}

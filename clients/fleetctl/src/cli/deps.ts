// What fleetctl gets from outside (process, files, clock, network, child processes): the real
// ones in main.ts, fakes in the command tests (fleetctl-harness.ts).
import type { FleetApi } from "../api/fleet-api.js";
import type { Clock, LocalFiles, Output, Processes } from "../context/context.js";
import type { Endpoint } from "../endpoint/endpoint.js";
import type { SshSettings } from "../ssh/ssh.js";

/** --ca-file, --cert-file, --key-file: paths, "" when not given. */
export interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface ConnectOptions {
  readonly requestTimeoutMs: number;
  readonly tls: TlsFiles;
  /** --token / FLEETCTL_TOKEN: sent as `Authorization: Bearer <token>`; "" sends none. */
  readonly token: string;
}

/** An ssh port forward: 127.0.0.1:port reaches the endpoint behind --tunnel until close(). */
export interface Tunnel {
  readonly port: number;
  close(): void;
}

export interface FleetctlDeps {
  readonly output: Output;
  readonly files: LocalFiles;
  readonly clock: Clock;
  readonly processes: Processes;
  /** Opens the API at the endpoint (gRPC or HTTP API v1), every call bounded by the timeout. */
  connect(endpoint: Endpoint, options: ConnectOptions): FleetApi | Promise<FleetApi>;
  /** Starts `ssh -L` through --tunnel to `target` (host:port or socket path). */
  openTunnel(ssh: SshSettings, target: string): Promise<Tunnel>;
  /** Whether a unix socket exists at the path (fleet's /var/run/fleet.sock picks the default endpoint). */
  socketExists?(path: string): boolean;
}

// The fleetctl executable: process, files, clock, ssh and the API clients wired into runFleetctl.
import { readFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { runFleetctl, type FleetctlDeps, type TlsFiles } from "./cli.js";
import type { Endpoint } from "./endpoint.js";
import { configureTls } from "@fleet/wire/fleet-client";
import { grpcFleetApi } from "./grpc-fleet-api.js";
import { httpFleetApi, type TlsMaterial } from "./http-fleet-api.js";
import { nodeProcesses, openSshTunnel } from "./node-processes.js";

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

function tlsMaterial(files: TlsFiles): TlsMaterial {
  const read = (path: string) => (path === "" ? undefined : readFileSync(path, "utf8"));
  const ca = read(files.caFile);
  const cert = read(files.certFile);
  const key = read(files.keyFile);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

function usesTls(endpoint: Endpoint, files: TlsFiles): boolean {
  if (endpoint.kind === "http") return endpoint.url.startsWith("https:");
  return endpoint.kind === "grpc" && (files.caFile !== "" || files.certFile !== "");
}

/**
 * bin/fleetctl starts Node without NODE_EXTRA_CA_CERTS (loading them costs every run ~50 ms)
 * and passes them as FLEETCTL_EXTRA_CA_CERTS. A TLS connection needs them: run this command
 * again in a Node that has them, and exit with its status.
 */
function restartWithExtraCaCerts(): void {
  const extra = process.env.FLEETCTL_EXTRA_CA_CERTS;
  if (!extra || process.env.NODE_EXTRA_CA_CERTS) return;
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: extra };
  delete env.FLEETCTL_EXTRA_CA_CERTS;
  const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit", env });
  process.exit(run.status ?? 1);
}

const deps: FleetctlDeps = {
  output: {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
  },
  files: {
    async readFile(path) {
      try {
        return await readFile(path, "utf8");
      } catch (err) {
        if (isErrno(err, "ENOENT")) return undefined;
        throw err;
      }
    },
  },
  clock: {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  },
  processes: nodeProcesses,
  connect: (endpoint, options) => {
    if (usesTls(endpoint, options.tls)) restartWithExtraCaCerts();
    if (endpoint.kind !== "grpc") return httpFleetApi(endpoint, options.requestTimeoutMs, tlsMaterial(options.tls));
    // --ca-file/--cert-file/--key-file make the gRPC connection TLS (mutual with a certificate).
    configureTls(options.tls);
    return grpcFleetApi(endpoint.address, options.requestTimeoutMs);
  },
  openTunnel: openSshTunnel,
};

void runFleetctl(process.argv.slice(2), process.env, deps).then((code) => {
  // Exit now rather than when gRPC's channels have wound down (~20 ms); stdout and stderr
  // writes to pipes, files and terminals are synchronous on Linux, so nothing is lost.
  process.exit(code);
});

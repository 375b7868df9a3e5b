// The fleetctl executable: process, files, clock, ssh and the API clients wired into runFleetctl.
// What only some commands or endpoints need (HTTP API v1, ssh and other child processes) is
// imported when first used: every module loaded at start-up costs every run.
import { readFile, readFileSync, statSync } from "node:fs";
import { runFleetctl } from "./cli/cli.js";
import type { FleetctlDeps, TlsFiles } from "./cli/deps.js";
import type { Endpoint } from "./endpoint/endpoint.js";
import { configureTls } from "@fleet/wire/fleet-client";
import { grpcFleetApi } from "./api/grpc-fleet-api.js";
import { exitWhenOutputCloses } from "./closed-output.js";
import type { TlsMaterial } from "./api/http-fleet-api.js";

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

const deps: FleetctlDeps = {
  output: {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    terminal: process.stdout.isTTY === true,
  },
  files: {
    readFile(path) {
      return new Promise((resolve, reject) => {
        readFile(path, "utf8", (err, text) => {
          if (!err) resolve(text);
          else if (isErrno(err, "ENOENT")) resolve(undefined);
          else reject(err);
        });
      });
    },
  },
  clock: {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  },
  processes: {
    run: async (argv) => (await import("./node-processes.js")).nodeProcesses.run(argv),
    ssh: async (settings, target) => (await import("./node-processes.js")).nodeProcesses.ssh(settings, target),
    forward: async (socketPath) => (await import("./node-processes.js")).nodeProcesses.forward(socketPath),
    onInterrupt(handler) {
      process.on("SIGINT", handler);
      return () => void process.off("SIGINT", handler);
    },
  },
  connect: async (endpoint, options) => {
    if (usesTls(endpoint, options.tls)) (await import("./endpoint/extra-ca-certs.js")).restartWithExtraCaCerts();
    if (endpoint.kind !== "grpc") {
      const { httpFleetApi } = await import("./api/http-fleet-api.js");
      return httpFleetApi(endpoint, options.requestTimeoutMs, tlsMaterial(options.tls), options.token);
    }
    // --ca-file/--cert-file/--key-file make the gRPC connection TLS (mutual with a certificate).
    configureTls(options.tls);
    return grpcFleetApi(endpoint.address, options.requestTimeoutMs, options.token);
  },
  openTunnel: async (ssh, target) => (await import("./node-processes.js")).openSshTunnel(ssh, target),
  socketExists(path) {
    try {
      return statSync(path).isSocket();
    } catch {
      return false;
    }
  },
};

// `fleetctl journal -f x | head -3`: when head exits, fleetctl ends quietly, as fleet's did.
exitWhenOutputCloses([process.stdout, process.stderr], (code) => process.exit(code));

void runFleetctl(process.argv.slice(2), process.env, deps).then(async (code) => {
  // Exit as soon as the output is out rather than when gRPC's channels have wound down
  // (~20 ms). A write to a full pipe (a reader slower than us: `fleetctl list-units | less`,
  // 10,000 units) is queued, not synchronous: exiting before it drained lost most of the list.
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
});

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0 || stream.destroyed) resolve();
    else stream.write("", () => resolve());
  });
}

// The fleetctl executable: process, files, clock and gRPC wired into runFleetctl.
import { readFile } from "node:fs/promises";
import { runFleetctl, type FleetctlDeps } from "./cli.js";
import { grpcFleetApi } from "./grpc-fleet-api.js";

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
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
  connect: (endpoint, requestTimeoutMs) => grpcFleetApi(endpoint, requestTimeoutMs),
};

void runFleetctl(process.argv.slice(2), process.env, deps).then((code) => {
  process.exitCode = code;
});

// Processes for the real executable: ssh with the terminal's stdio, fd-forward's socket
// copying, and ssh port forwards for --tunnel.
import { spawn } from "node:child_process";
import { connect, createServer } from "node:net";
import { constants } from "node:os";
import type { Tunnel } from "./cli.js";
import type { Processes } from "./context.js";
import { tunnelArgv, type SshSettings } from "./ssh.js";

/** run and forward; main.ts loads this module only when a command needs them. */
export const nodeProcesses: Pick<Processes, "run" | "forward"> = {
  run(argv) {
    return new Promise((resolve) => {
      const [cmd = "", ...args] = argv;
      const child = spawn(cmd, args, { stdio: "inherit" });
      // Ctrl-C belongs to the child (ssh passes it on); fleetctl waits for it to end.
      const ignore = () => {};
      process.on("SIGINT", ignore);
      const done = (code: number) => {
        process.off("SIGINT", ignore);
        resolve(code);
      };
      child.on("error", (err) => {
        process.stderr.write(`fleetctl: cannot run ${cmd}: ${err.message}\n`);
        done(127);
      });
      child.on("exit", (code, signal) => done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    });
  },
  forward(socketPath) {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      socket.once("error", reject);
      socket.once("connect", () => {
        process.stdin.pipe(socket);
        socket.pipe(process.stdout);
        socket.once("close", () => {
          process.stdin.unpipe(socket);
          process.stdin.pause();
          resolve();
        });
      });
    });
  },
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts `ssh -N -L` through --tunnel and resolves once the local port accepts connections. */
export async function openSshTunnel(ssh: SshSettings, target: string): Promise<Tunnel> {
  const port = await freePort();
  const [cmd = "ssh", ...args] = tunnelArgv(ssh, port, target);
  const child = spawn(cmd, args, { stdio: ["inherit", "ignore", "inherit"] });
  let exited: string | undefined;
  child.on("error", (err) => (exited = err.message));
  child.on("exit", (code) => (exited ??= `ssh exited with code ${code ?? "?"}`));
  const deadline = Date.now() + (ssh.timeoutS + 5) * 1000;
  while (!(await accepts(port))) {
    if (exited !== undefined) throw new Error(`failed initializing SSH tunnel through ${ssh.tunnel}: ${exited}`);
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`failed initializing SSH tunnel through ${ssh.tunnel}: timed out`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, close: () => void child.kill("SIGTERM") };
}

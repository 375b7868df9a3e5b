// Processes for the real executable: ssh with the terminal's stdio, fd-forward's socket
// copying, and ssh port forwards for --tunnel.
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { constants, homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Tunnel } from "./cli/deps.js";
import type { Processes, SshRun } from "./context/context.js";
import { failureError, failureHint, failureNotice, isYes, knownHostsEntry, offeredKeys, permanentlyAdded, readSshLog, trustPrompt, type OfferedKey } from "./ssh/ssh-log.js";
import { expandHome, sshArgv, tunnelArgv, type SshFiles, type SshSettings } from "./ssh/ssh.js";

/** The settings as ssh gets them: the known-hosts file's "~" expanded as fleet's fleetctl did. */
function prepared(s: SshSettings): SshSettings {
  return { ...s, knownHostsFile: expandHome(s.knownHostsFile, process.env.HOME || homedir()) };
}

/** The files of one ssh run, in a directory of its own under the temp directory. */
class RunFiles implements SshFiles {
  private readonly dir = mkdtempSync(join(/^[A-Za-z0-9_./-]+$/.test(tmpdir()) ? tmpdir() : "/tmp", "fleetctl-ssh-"));
  readonly log = join(this.dir, "ssh.log");
  readonly offeredKeys = join(this.dir, "offered-keys");

  private read(path: string): string {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return "";
    }
  }

  /** Removes the files; returns what ssh said and the keys offered to it. */
  close(): { log: string; offered: OfferedKey[] } {
    const out = { log: this.read(this.log), offered: offeredKeys(this.read(this.offeredKeys)) };
    rmSync(this.dir, { recursive: true, force: true });
    return out;
  }
}

/** One line from stdin, read a byte at a time so that nothing after it is taken from ssh (fleet
 * read its answer with fmt.Scanf). "" at the end of input. */
function readAnswer(): string {
  const byte = Buffer.alloc(1);
  let line = "";
  for (;;) {
    let n: number;
    try {
      n = readSync(0, byte, 0, 1, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        continue;
      }
      return line;
    }
    if (n === 0 || byte[0] === 0x0a) return line;
    line += byte.toString("latin1");
  }
}

/**
 * fleet's HostKeyChecker for a host ssh did not know: asks on stderr, reads the answer from
 * stdin; yes: appends the key to the known-hosts file (made 0700/0644 as fleet made it) and says
 * so. True when ssh may run again.
 */
function askToTrust(knownHostsFile: string, key: OfferedKey): boolean {
  process.stderr.write(trustPrompt(key));
  if (!isYes(readAnswer())) return false;
  try {
    mkdirSync(dirname(knownHostsFile), { recursive: true, mode: 0o700 });
    appendFileSync(knownHostsFile, knownHostsEntry(key), { mode: 0o644 });
  } catch {
    process.stderr.write(`Failed to add the host to the list of known hosts (${knownHostsFile}).\n`);
    return false;
  }
  process.stderr.write(permanentlyAdded(key));
  return true;
}

/** The key to ask about after ssh refused a host it does not know (the last one offered: the
 * host it stopped at, the tunnel's or the target). */
function unknownHostKey(s: SshSettings, code: number, log: string, offered: readonly OfferedKey[]): OfferedKey | undefined {
  if (!s.strictHostKeyChecking || code !== 255 || readSshLog(log, code).failure?.kind !== "host-unknown") return undefined;
  return offered.at(-1);
}

function runArgv(argv: readonly string[]): Promise<number> {
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
}

/** run, ssh and forward; main.ts loads this module only when a command needs them. */
export const nodeProcesses: Pick<Processes, "run" | "ssh" | "forward"> = {
  run: runArgv,
  async ssh(settings, target): Promise<SshRun> {
    const s = prepared(settings);
    // At most the tunnel's and the target's keys to ask about, then the run itself.
    for (let attempt = 0; ; attempt++) {
      const files = new RunFiles();
      const code = await Promise.resolve()
        .then(() => runArgv(sshArgv(s, target, files)))
        .catch((err: unknown) => {
          files.close();
          throw err;
        });
      const { log, offered } = files.close();
      const unknown = attempt < 2 ? unknownHostKey(s, code, log, offered) : undefined;
      if (!unknown || !askToTrust(s.knownHostsFile, unknown)) return { code, log };
    }
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

/** Starts `ssh -N -L` through --tunnel and resolves once the local port accepts connections.
 * A tunnel host fleetctl does not know is asked about first, as fleet did. When ssh fails,
 * fleet's words for why (its known-hosts warning first, when that is why). */
export async function openSshTunnel(ssh: SshSettings, target: string): Promise<Tunnel> {
  const s = prepared(ssh);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const files = new RunFiles();
    const [cmd = "ssh", ...args] = tunnelArgv(s, port, target, files);
    const child = spawn(cmd, args, { stdio: ["inherit", "ignore", "inherit"] });
    let exited: { code: number; error?: string } | undefined;
    child.on("error", (err) => (exited = { code: 127, error: err.message }));
    child.on("exit", (code) => (exited ??= { code: code ?? 255 }));
    const deadline = Date.now() + (s.timeoutS + 5) * 1000;
    let up = false;
    while (!(up = await accepts(port)) && exited === undefined) {
      if (Date.now() > deadline) {
        child.kill("SIGTERM");
        files.close();
        throw new Error("failed initializing SSH client: timed out while initiating SSH connection");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (up) {
      return {
        port,
        close: () => {
          child.kill("SIGTERM");
          // What ssh said meanwhile (e.g. that the API behind the tunnel refused a connection).
          for (const line of readSshLog(files.close().log, 0).passOn) process.stderr.write(`${line}\n`);
        },
      };
    }
    const ended = exited ?? { code: 255 };
    const { log, offered } = files.close();
    const unknown = attempt < 1 ? unknownHostKey(s, ended.code, log, offered) : undefined;
    if (unknown && askToTrust(s.knownHostsFile, unknown)) continue;
    const failure = readSshLog(log, 255).failure;
    if (failure) process.stderr.write(failureNotice(failure) + failureHint(failure));
    // fleet: "Unable to initialize client: failed initializing SSH client: <why>".
    throw new Error(`failed initializing SSH client: ${failure ? failureError(failure) : (ended.error ?? `ssh exited with code ${ended.code}`)}`);
  }
}

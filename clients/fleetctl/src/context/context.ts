// What a command runs with. Everything that touches the outside world is here, behind small
// interfaces, so commands are tested with fakes: the FleetApi fake, in-memory files and output,
// and a clock that does not really sleep.
import { outcomeUnknownError } from "@fleet/wire/fleet-client";
import type { FleetApi } from "../api/fleet-api.js";
import type { MachineDirectory } from "../api/machine-directory.js";
import type { SshSettings, SshTarget } from "../ssh/ssh.js";
import { unreachableMessage } from "./unreachable.js";

export interface Output {
  /** Writes text to stdout as is. */
  stdout(text: string): void;
  /** Writes text to stderr as is. */
  stderr(text: string): void;
  /** stdout is a terminal (list-units --watch then redraws in place). */
  readonly terminal?: boolean;
}

export interface LocalFiles {
  /** The file's text, or undefined when there is no such file. Other failures throw. */
  readFile(path: string): Promise<string | undefined>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** How an ssh ended: its exit code (the remote command's, or 255 for ssh's own failure) and
 * ssh's own messages (its -E log; not the remote command's output). */
export interface SshRun {
  readonly code: number;
  readonly log: string;
}

/** Other programs fleetctl runs: ssh, and the terminal's streams and signals. */
export interface Processes {
  /** Runs ssh (sshArgv) with this terminal's stdin/stdout/stderr and its own messages captured;
   * a host the known-hosts file does not have is asked about as fleet did (stdin), then ssh
   * runs again. */
  ssh(settings: SshSettings, target: SshTarget): Promise<SshRun>;
  /** Runs argv with this terminal's stdin/stdout/stderr; resolves to its exit code (127 when it cannot start). */
  run(argv: readonly string[]): Promise<number>;
  /** Copies stdin to the unix socket and the socket to stdout until either side ends (fd-forward). */
  forward(socketPath: string): Promise<void>;
  /** Calls handler on Ctrl-C (SIGINT) until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
}

export interface CommandContext {
  readonly api: FleetApi;
  readonly output: Output;
  readonly files: LocalFiles;
  readonly clock: Clock;
  readonly machines: MachineDirectory;
  readonly processes: Processes;
  readonly ssh: SshSettings;
  readonly debug: boolean;
}

/** One line on stdout, like fleetctl's stdout(): a newline is added unless there is one. */
export function say(ctx: { readonly output: Output }, line: string): void {
  ctx.output.stdout(line.endsWith("\n") ? line : `${line}\n`);
}

/** One line on stderr. */
export function warn(ctx: { readonly output: Output }, line: string): void {
  ctx.output.stderr(line.endsWith("\n") ? line : `${line}\n`);
}

/**
 * A line of fleet's log on stderr, as fleetctl's log.Infof/log.Warningf wrote it: local date and
 * time, level, the Go source line that logged it (kept as fleet's, for scripts that match it),
 * message: "2016/02/01 15:04:05 INFO restart.go:100: Unit(a.service) was restarted."
 */
export function logLine(ctx: { readonly output: Output; readonly clock: Clock }, level: "INFO" | "WARN", site: string, message: string): void {
  const t = new Date(ctx.clock.now());
  const two = (n: number) => String(n).padStart(2, "0");
  const date = `${t.getFullYear()}/${two(t.getMonth() + 1)}/${two(t.getDate())} ${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
  warn(ctx, `${date} ${level} ${site}: ${message}`);
}

/** A debug line on stderr, only with --debug. */
export function debug(ctx: Pick<CommandContext, "debug" | "output">, line: string): void {
  if (ctx.debug) warn(ctx, `DEBUG: ${line}`);
}

/** The message of anything thrown. */
export function errorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return unreachableMessage(message) ?? message;
}

/** What fleetctl tells after a write whose outcome is unknown: how to find out, and that it may be repeated. */
export const RETRY_IS_SAFE = "retrying is safe (check with fleetctl list-unit-files)";

/**
 * The line fleetctl prints for a failure: "<prefix>: <message>" (the message alone without a
 * prefix); but for a write that may have
 * been applied (the answer was lost), one line that says so and that retrying is safe:
 * "Error: creating unit a.service may have been applied: <cause>; retrying is safe (...)".
 */
export function failureLine(prefix: string, err: unknown): string {
  const unknown = outcomeUnknownError(err);
  if (unknown) return `Error: ${unknown.message}; ${RETRY_IS_SAFE}`;
  return prefix === "" ? errorMessage(err) : `${prefix}: ${errorMessage(err)}`;
}

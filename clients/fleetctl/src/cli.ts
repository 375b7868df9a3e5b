// fleetctl's top level: parse the command line, pick the command, connect, run, exit code.
// Everything outside (process, files, network, time) comes in through FleetctlDeps.
import { ArgvError, boolFlag, numberFlag, parseArgv, stringFlag, type FlagSpec, type FlagValues } from "./argv.js";
import type { Command } from "./command.js";
import { errorMessage, failureLine, logLine, warn, type Clock, type LocalFiles, type Output, type Processes } from "./context.js";
import { defaultEndpoint, EndpointError, FLEET_SOCKET_PATH, parseEndpoint, throughLocalPort, tunnelTarget, type Endpoint } from "./endpoint.js";
import type { FleetApi } from "./fleet-api.js";
import { resolveCommand, unknownCommandMessage } from "./command-names.js";
import { commandHelp, globalHelp, HELP_TOPIC, VERSION_TOPIC, type HelpTopic } from "./help.js";
import { listMachinesCommand, listUnitFilesCommand, listUnitsCommand } from "./list-commands.js";
import { MachineDirectory } from "./machine-directory.js";
import { restartCommand } from "./restart-command.js";
import type { SshSettings } from "./ssh.js";
import { fdForwardCommand, sshCommand } from "./ssh-commands.js";
import { journalCommand, statusCommand } from "./status-journal-commands.js";
import { verifyCommand } from "./verify-command.js";
import {
  catCommand,
  destroyCommand,
  loadCommand,
  startCommand,
  stopCommand,
  submitCommand,
  unloadCommand,
} from "./unit-commands.js";
import { FLEETCTL_VERSION } from "./version.js";

/** Where the api service listens by default (fleet's fleetctl defaulted to unix:///var/run/fleet.sock). */
export const DEFAULT_ENDPOINT = "127.0.0.1:49500";
/** fleet's default --request-timeout, in seconds. */
export const DEFAULT_REQUEST_TIMEOUT_S = 3;

const ignored = (name: string, kind: FlagSpec["kind"], def: FlagSpec["default"]): FlagSpec => ({
  name,
  kind,
  default: def,
  usage: "Accepted for compatibility with fleet's fleetctl; ignored.",
  ignored: true,
});

/** fleet's defaults for the ssh flags. */
export const DEFAULT_SSH_USERNAME = "core";
export const DEFAULT_KNOWN_HOSTS_FILE = "~/.fleetctl/known_hosts";

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  {
    name: "endpoint",
    kind: "string",
    default: DEFAULT_ENDPOINT,
    usage: "Location of the fleet API: host:port (gRPC), or http://host:port or unix:///path (fleet's HTTP API v1).",
  },
  {
    name: "request-timeout",
    kind: "float",
    default: DEFAULT_REQUEST_TIMEOUT_S,
    usage: "Amount of time in seconds to allow a single request before considering it failed.",
  },
  { name: "debug", kind: "bool", default: false, usage: "Print out more debug information to stderr" },
  { name: "version", kind: "bool", default: false, usage: "Print the version and exit" },
  { name: "help", kind: "bool", default: false, short: "h", usage: "Print usage information and exit" },
  { name: "tunnel", kind: "string", default: "", usage: "Establish an SSH tunnel through the provided address for communication with fleet and the machines." },
  { name: "ca-file", kind: "string", default: "", usage: "Path to the CA bundle to verify the endpoint (https:// or gRPC over TLS)." },
  { name: "cert-file", kind: "string", default: "", usage: "Path to the client certificate (https:// or gRPC over TLS)." },
  { name: "key-file", kind: "string", default: "", usage: "Path to the client key (https:// or gRPC over TLS)." },
  { name: "ssh-username", kind: "string", default: DEFAULT_SSH_USERNAME, usage: "Username to use when connecting to CoreOS instance." },
  { name: "ssh-timeout", kind: "float", default: 10, usage: "Amount of time in seconds to allow for SSH connection initialization before failing." },
  { name: "strict-host-key-checking", kind: "bool", default: true, usage: "Verify host keys presented by remote machines before initiating SSH connections." },
  { name: "known-hosts-file", kind: "string", default: DEFAULT_KNOWN_HOSTS_FILE, usage: "File used to store remote machine fingerprints. Ignored if strict host key checking is disabled." },
  ignored("driver", "string", "API"),
  ignored("etcd-key-prefix", "string", "/_coreos.com/fleet/"),
  ignored("etcd-keyfile", "string", ""),
  ignored("etcd-certfile", "string", ""),
  ignored("etcd-cafile", "string", ""),
  ignored("experimental-api", "bool", true),
];

export const COMMANDS: readonly Command[] = [
  catCommand,
  destroyCommand,
  fdForwardCommand,
  journalCommand,
  listMachinesCommand,
  listUnitFilesCommand,
  listUnitsCommand,
  loadCommand,
  restartCommand,
  sshCommand,
  startCommand,
  statusCommand,
  stopCommand,
  submitCommand,
  unloadCommand,
  verifyCommand,
];

const HELP = "help";
const VERSION = "version";

/** --ca-file, --cert-file, --key-file: paths, "" when not given. */
export interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface ConnectOptions {
  readonly requestTimeoutMs: number;
  readonly tls: TlsFiles;
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

/** Every command name fleet's fleetctl knew (cobra's help among them). */
const ALL_NAMES = [...COMMANDS.map((c) => c.name), HELP, VERSION];
/** The names cobra suggests for a mistyped command: not help, not the deprecated verify. */
const SUGGESTIBLE = [...COMMANDS.map((c) => c.name).filter((n) => n !== "verify"), VERSION];

/** The command a word names, with fleet's prefix matching ("list-m" is list-machines). */
function commandName(word: string): string | undefined {
  return resolveCommand(word, ALL_NAMES);
}

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function helpTopic(name: string): HelpTopic | undefined {
  return name === HELP ? HELP_TOPIC : name === VERSION ? VERSION_TOPIC : findCommand(name);
}

function commandFlags(word: string): readonly FlagSpec[] | undefined {
  const name = commandName(word);
  if (name === HELP || name === VERSION) return [];
  return name === undefined ? undefined : findCommand(name)?.flags;
}

/** The word that names the command, skipping global flags and their values: for the usage shown with a flag error. */
function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? "";
    if (token === "--") return argv[i + 1];
    if (!token.startsWith("-") || token === "-") return token;
    const name = token.replace(/^--?/, "").split("=")[0];
    const spec = GLOBAL_FLAGS.find((f) => f.name === name || f.short === name);
    if (spec && spec.kind !== "bool" && !token.includes("=")) i++;
  }
  return undefined;
}

/** The usage fleet printed on stdout with a command-line error: the command's, else fleetctl's. */
function usageOf(word: string | undefined): string {
  const topic = word === undefined ? undefined : helpTopic(commandName(word) ?? "");
  return topic ? commandHelp(topic, GLOBAL_FLAGS) : globalHelp(COMMANDS, GLOBAL_FLAGS);
}

/**
 * A command-line error as fleet 1.0's fleetctl (cobra) reported it: "Error: ..." and, from its
 * main, "cannot execute cmdFleet: ..." on stderr. fleet then exited 0; this exits 2.
 */
function commandLineError(out: { readonly output: Output }, message: string, extra = ""): number {
  out.output.stderr(`Error: ${message}\n${extra}`);
  out.output.stderr(`cannot execute cmdFleet: ${message}\n`);
  return 2;
}

/** Runs fleetctl with these arguments (without "node fleetctl"); resolves to the exit code. */
export async function runFleetctl(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  deps: FleetctlDeps,
): Promise<number> {
  const out = { output: deps.output };
  // As fleet's main: "-v" (or "--version") right after "fleetctl" prints the version.
  if (argv[0] === "-v") {
    deps.output.stdout(`fleetctl version ${FLEETCTL_VERSION}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgv(argv, GLOBAL_FLAGS, commandFlags, env);
  } catch (err) {
    if (!(err instanceof ArgvError)) throw err;
    // cobra printed the command's usage (on stdout) and an empty line after the error.
    deps.output.stdout(usageOf(commandWord(argv)));
    return commandLineError(out, err.message, "\n");
  }

  let name = parsed.command === undefined ? undefined : (commandName(parsed.command) ?? parsed.command);
  let args = parsed.args;
  if (boolFlag(parsed.global, "version")) name = VERSION;
  else if (name === undefined || boolFlag(parsed.global, "help")) {
    // "fleetctl start --help" is help for start.
    args = name === undefined || name === HELP ? args : [name];
    name = HELP;
  }

  if (name === VERSION) {
    deps.output.stdout(`fleetctl version ${FLEETCTL_VERSION}\n`);
    return 0;
  }
  if (name === HELP) {
    const word = args[0];
    if (word === undefined) {
      deps.output.stdout(globalHelp(COMMANDS, GLOBAL_FLAGS));
      return 0;
    }
    const topic = helpTopic(commandName(word) ?? "");
    if (!topic) {
      // cobra's words (Go's %#q of the arguments), without a newline, then fleetctl's usage.
      out.output.stderr(`Unknown help topic [${args.map((a) => (a.includes("`") ? JSON.stringify(a) : `\`${a}\``)).join(" ")}].`);
      deps.output.stdout(globalHelp(COMMANDS, GLOBAL_FLAGS));
      return 1;
    }
    deps.output.stdout(commandHelp(topic, GLOBAL_FLAGS));
    return 0;
  }

  const command = findCommand(name);
  if (!command) {
    const message = unknownCommandMessage(name, SUGGESTIBLE);
    return commandLineError(out, message, "Run 'fleetctl --help' for usage.\n");
  }
  if (parsed.flags.get("sign") === true) {
    warn(out, "WARNING: The signed/verified units feature is DEPRECATED and cannot be used.");
    return 2;
  }
  const timeoutS = numberFlag(parsed.global, "request-timeout");
  if (!(timeoutS > 0)) {
    warn(out, `invalid --request-timeout ${timeoutS}: must be a positive number of seconds`);
    return 2;
  }
  let endpoint: Endpoint;
  try {
    // No endpoint given: fleet's socket when this machine serves it (its agent), as fleet's fleetctl did.
    const given = parsed.globalSet.has("endpoint") || (env.FLEETCTL_ENDPOINT ?? "") !== "";
    endpoint = parseEndpoint(given ? stringFlag(parsed.global, "endpoint") : defaultEndpoint(deps.socketExists?.(FLEET_SOCKET_PATH) ?? false, DEFAULT_ENDPOINT));
  } catch (err) {
    if (!(err instanceof EndpointError)) throw err;
    warn(out, `Unable to initialize client: ${err.message}`);
    return 1;
  }
  const endpoints = stringFlag(parsed.global, "endpoint").split(",");
  if (command.needsApi !== false && endpoints.length > 1) {
    logLine(deps, "WARN", "fleetctl.go:332", `multiple endpoints provided but only the first (${endpoints[0] ?? ""}) is used`);
  }
  const ssh = sshSettings(parsed.global);
  const tls: TlsFiles = { caFile: stringFlag(parsed.global, "ca-file"), certFile: stringFlag(parsed.global, "cert-file"), keyFile: stringFlag(parsed.global, "key-file") };
  let tunnel: Tunnel | undefined;
  let api: FleetApi;
  try {
    if (command.needsApi !== false && ssh.tunnel !== "") {
      tunnel = await deps.openTunnel(ssh, tunnelTarget(endpoint));
      endpoint = throughLocalPort(endpoint, tunnel.port);
    }
    api = command.needsApi === false ? disconnected : await deps.connect(endpoint, { requestTimeoutMs: Math.round(timeoutS * 1000), tls });
  } catch (err) {
    tunnel?.close();
    warn(out, `Unable to initialize client: ${errorMessage(err)}`);
    return 1;
  }
  const ctx = {
    api,
    output: deps.output,
    files: deps.files,
    clock: deps.clock,
    machines: new MachineDirectory(api),
    processes: deps.processes,
    ssh,
    debug: boolFlag(parsed.global, "debug"),
  };
  try {
    return await command.run(ctx, parsed.flags, args);
  } catch (err) {
    warn(out, failureLine("", err));
    return 1;
  } finally {
    api.close();
    tunnel?.close();
  }
}

function sshSettings(global: FlagValues): SshSettings {
  return {
    username: stringFlag(global, "ssh-username") || DEFAULT_SSH_USERNAME,
    timeoutS: numberFlag(global, "ssh-timeout"),
    strictHostKeyChecking: boolFlag(global, "strict-host-key-checking"),
    knownHostsFile: stringFlag(global, "known-hosts-file") || DEFAULT_KNOWN_HOSTS_FILE,
    tunnel: stringFlag(global, "tunnel"),
  };
}

/** The API of commands that never use it. */
const disconnected: FleetApi = {
  getUnit: notConnected,
  listUnits: notConnected,
  createUnit: notConnected,
  setUnitTargetState: notConnected,
  destroyUnit: notConnected,
  listUnitStates: notConnected,
  listMachines: notConnected,
  close() {},
};

async function notConnected(): Promise<never> {
  throw new Error("this command does not talk to the cluster");
}

// fleetctl's top level: parse the command line, pick the command, connect, run, exit code.
// Everything outside (process, files, network, time) comes in through FleetctlDeps.
import { ArgvError, boolFlag, numberFlag, parseArgv, stringFlag, type FlagSpec } from "./argv.js";
import type { Command } from "./command.js";
import { errorMessage, warn, type Clock, type LocalFiles, type Output } from "./context.js";
import type { FleetApi } from "./fleet-api.js";
import { commandHelp, globalHelp } from "./help.js";
import { listMachinesCommand, listUnitFilesCommand, listUnitsCommand } from "./list-commands.js";
import { MachineDirectory } from "./machine-directory.js";
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

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  {
    name: "endpoint",
    kind: "string",
    default: DEFAULT_ENDPOINT,
    usage: "Location of the fleet API: host:port or unix:///path (http:// is accepted and dropped).",
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
  ignored("driver", "string", "API"),
  ignored("tunnel", "string", ""),
  ignored("ca-file", "string", ""),
  ignored("cert-file", "string", ""),
  ignored("key-file", "string", ""),
  ignored("etcd-key-prefix", "string", ""),
  ignored("etcd-keyfile", "string", ""),
  ignored("etcd-certfile", "string", ""),
  ignored("etcd-cafile", "string", ""),
  ignored("experimental-api", "bool", true),
  ignored("known-hosts-file", "string", ""),
  ignored("strict-host-key-checking", "bool", true),
  ignored("ssh-timeout", "float", 10),
  ignored("ssh-username", "string", "core"),
];

export const COMMANDS: readonly Command[] = [
  catCommand,
  destroyCommand,
  listMachinesCommand,
  listUnitFilesCommand,
  listUnitsCommand,
  loadCommand,
  startCommand,
  stopCommand,
  submitCommand,
  unloadCommand,
];

const HELP = "help";
const VERSION = "version";

export interface FleetctlDeps {
  readonly output: Output;
  readonly files: LocalFiles;
  readonly clock: Clock;
  /** Opens the API at a normalized endpoint, every call bounded by the timeout. */
  connect(endpoint: string, requestTimeoutMs: number): FleetApi;
}

/**
 * The gRPC address for an --endpoint value: the first of a comma-separated list, without an
 * http(s):// scheme (fleet's endpoints were URLs); unix:///path is kept as is.
 */
export function normalizeEndpoint(endpoint: string): string {
  const first = (endpoint.split(",")[0] ?? "").trim();
  return first.replace(/^https?:\/\//, "").replace(/\/+$/, "");
}

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function commandFlags(name: string): readonly FlagSpec[] | undefined {
  if (name === HELP || name === VERSION) return [];
  return findCommand(name)?.flags;
}

/** Runs fleetctl with these arguments (without "node fleetctl"); resolves to the exit code. */
export async function runFleetctl(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  deps: FleetctlDeps,
): Promise<number> {
  const out = { output: deps.output };
  let parsed;
  try {
    parsed = parseArgv(argv, GLOBAL_FLAGS, commandFlags, env);
  } catch (err) {
    if (!(err instanceof ArgvError)) throw err;
    warn(out, err.message);
    warn(out, "Run 'fleetctl help' for usage.");
    return 2;
  }

  let name = parsed.command;
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
    const topic = args[0];
    if (topic === undefined) {
      deps.output.stdout(globalHelp(COMMANDS, GLOBAL_FLAGS));
      return 0;
    }
    const command = findCommand(topic);
    if (!command) {
      warn(out, `Unrecognized command: ${topic}`);
      return 1;
    }
    deps.output.stdout(commandHelp(command));
    return 0;
  }

  const command = findCommand(name);
  if (!command) {
    warn(out, `fleetctl: unknown subcommand: ${JSON.stringify(name)}`);
    warn(out, "Run 'fleetctl help' for usage.");
    return 2;
  }
  if (parsed.flags.get("sign") === true) {
    warn(out, "WARNING: The signed/verified units feature is DEPRECATED and cannot be used.");
    return 2;
  }
  if (stringFlag(parsed.global, "tunnel") !== "") {
    warn(out, "WARNING: --tunnel is not supported by this fleetctl and is ignored; use --endpoint");
  }

  const timeoutS = numberFlag(parsed.global, "request-timeout");
  if (!(timeoutS > 0)) {
    warn(out, `invalid --request-timeout ${timeoutS}: must be a positive number of seconds`);
    return 2;
  }
  let api: FleetApi;
  try {
    api = deps.connect(normalizeEndpoint(stringFlag(parsed.global, "endpoint")), Math.round(timeoutS * 1000));
  } catch (err) {
    warn(out, `Unable to initialize client: ${errorMessage(err)}`);
    return 1;
  }
  const ctx = {
    api,
    output: deps.output,
    files: deps.files,
    clock: deps.clock,
    machines: new MachineDirectory(api),
    debug: boolFlag(parsed.global, "debug"),
  };
  try {
    return await command.run(ctx, parsed.flags, args);
  } catch (err) {
    warn(out, errorMessage(err));
    return 1;
  } finally {
    api.close();
  }
}

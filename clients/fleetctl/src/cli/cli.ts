// fleetctl's top level: parse the command line, pick the command, connect, run, exit code.
// Everything outside (process, files, network, time) comes in through FleetctlDeps (deps.ts).
import type { FleetApi } from "../api/fleet-api.js";
import { MachineDirectory } from "../api/machine-directory.js";
import { errorMessage, failureLine, logLine, warn, type Output } from "../context/context.js";
import { defaultEndpoint, EndpointError, FLEET_SOCKET_PATH, parseEndpoint, throughLocalPort, tunnelTarget, type Endpoint } from "../endpoint/endpoint.js";
import { ArgvError, boolFlag, numberFlag, parseArgv, stringFlag } from "../commands/argv.js";
import { unknownCommandMessage } from "./command-names.js";
import { commandFlags, commandName, commandWord, COMMANDS, findCommand, HELP, helpTopic, SUGGESTIBLE, usageOf, VERSION } from "./command-table.js";
import type { FleetctlDeps, TlsFiles, Tunnel } from "./deps.js";
import { DEFAULT_ENDPOINT, GLOBAL_FLAGS, sshSettings } from "./global-flags.js";
import { commandHelp, globalHelp } from "./help.js";
import { FLEETCTL_VERSION } from "./version.js";

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
    api = command.needsApi === false ? disconnected : await deps.connect(endpoint, { requestTimeoutMs: Math.round(timeoutS * 1000), tls, token: stringFlag(parsed.global, "token") });
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

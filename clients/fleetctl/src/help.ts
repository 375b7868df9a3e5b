// `fleetctl help` and `fleetctl help <command>`: plain text, aligned like the rest of fleetctl.
import type { FlagSpec } from "./argv.js";
import type { Command } from "./command.js";
import { tabwrite } from "./tabwriter.js";
import { FLEETCTL_VERSION } from "./version.js";

export const CLI_DESCRIPTION = "fleetctl is a command-line interface to fleet, the cluster-wide CoreOS init system.";

function flagLine(spec: FlagSpec): string {
  const names = spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
  const value = spec.kind === "bool" ? (spec.default === true ? "=true" : "") : `=${String(spec.default)}`;
  return `\t${names}${value}\t${spec.usage}\n`;
}

export function globalHelp(commands: readonly Command[], globalFlags: readonly FlagSpec[]): string {
  const lines = [
    "NAME:\n",
    `\tfleetctl - ${CLI_DESCRIPTION}\n`,
    "\n",
    "USAGE:\n",
    "\tfleetctl [global options] <command> [command options] [arguments...]\n",
    "\n",
    "VERSION:\n",
    `\t${FLEETCTL_VERSION}\n`,
    "\n",
    "COMMANDS:\n",
    ...[...commands].sort((a, b) => (a.name < b.name ? -1 : 1)).map((c) => `\t${c.name}\t${c.summary}\n`),
    "\n",
    "GLOBAL OPTIONS:\n",
    ...globalFlags.filter((f) => !f.ignored).map(flagLine),
    "\n",
    `Global options can also be configured via upper-case environment variables prefixed with "FLEETCTL_"\n`,
    `For example, "some-flag" => "FLEETCTL_SOME_FLAG"\n`,
    "\n",
    `Run "fleetctl help <command>" for more details on a specific command.\n`,
  ];
  return tabwrite(lines.join(""));
}

export function commandHelp(command: Command): string {
  const lines = [
    "NAME:\n",
    `\tfleetctl ${command.name} - ${command.summary}\n`,
    "\n",
    "USAGE:\n",
    `\tfleetctl ${command.name}${command.usage ? ` ${command.usage}` : ""}\n`,
  ];
  if (command.description) {
    lines.push("\n", "DESCRIPTION:\n", ...command.description.split("\n").map((l) => (l === "" ? "\n" : `\t${l.replace(/\t/g, "  ")}\n`)));
  }
  if (command.flags.length > 0) {
    lines.push("\n", "OPTIONS:\n", ...command.flags.map(flagLine));
  }
  return tabwrite(lines.join(""));
}

// `fleetctl help`, `fleetctl help <command>`, `fleetctl <command> --help`, laid out as fleet
// 1.0's fleetctl did: its usage template (fleetctl/help.go: NAME, USAGE, VERSION, COMMANDS,
// DESCRIPTION, OPTIONS, GLOBAL OPTIONS), its flag lines as pflag's FlagUsages writes them, the
// whole passed through its tabwriter. Pure: text in, text out.
import type { FlagSpec } from "../commands/argv.js";
import type { Command } from "../commands/command.js";
import { tabwrite } from "../output/tabwriter.js";
import { FLEETCTL_VERSION } from "./version.js";

export const CLI_DESCRIPTION = "fleetctl is a command-line interface to fleet, the cluster-wide CoreOS init system.";

/** What the help of a command shows of it: fleet's command name, Short, Use (after the name), Long. */
export type HelpTopic = Pick<Command, "name" | "summary" | "usage" | "description" | "flags">;

/** cobra's own `help` command, and fleet's `version`, which are not among the commands that talk to the cluster. */
export const HELP_TOPIC: HelpTopic = {
  name: "help",
  summary: "Help about any command",
  usage: "[command]",
  description: "Help provides help for any command in the application.\n    Simply type fleetctl help [path to command] for full details.",
  flags: [],
};
export const VERSION_TOPIC: HelpTopic = {
  name: "version",
  summary: "Print the version and exit",
  usage: "",
  description: "Print the version and exit",
  flags: [],
};

/** pflag's name for a flag's value: none for booleans. */
function valueName(spec: FlagSpec): string {
  return spec.kind === "bool" ? "" : spec.kind;
}

/** pflag's " (default ...)" unless the default is the type's zero value. */
function defaultSuffix(spec: FlagSpec): string {
  switch (spec.kind) {
    case "bool":
      return spec.default === true ? " (default true)" : "";
    case "string":
      return spec.default === "" ? "" : ` (default "${String(spec.default)}")`;
    case "int":
    case "float":
      return spec.default === 0 ? "" : ` (default ${String(spec.default)})`;
  }
}

/**
 * pflag's FlagUsages: one line per flag, sorted by name, "  -x, --name type" or "      --name
 * type", then the usage, aligned two spaces after the longest such head.
 */
export function flagUsages(specs: readonly FlagSpec[]): string {
  const sorted = [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const heads = sorted.map((s) => {
    const names = s.short ? `  -${s.short}, --${s.name}` : `      --${s.name}`;
    const value = valueName(s);
    return value ? `${names} ${value}` : names;
  });
  const width = Math.max(0, ...heads.map((h) => h.length));
  return sorted.map((s, i) => `${heads[i] ?? ""} ${" ".repeat(width - (heads[i] ?? "").length)} ${s.usage}${defaultSuffix(s)}\n`).join("");
}

/** fleet's descToLines: the text trimmed of blank lines, tabs and spaces around it, one "\t"-led line each. */
function descriptionLines(text: string): string {
  const trimmed = text.replace(/^[\n\t ]+|[\n\t ]+$/g, "");
  return trimmed
    .split("\n")
    .map((line) => `\t${line}\n`)
    .join("");
}

/** `fleetctl help`: the root command's usage, listing every command (cobra's `help` among them). */
export function globalHelp(commands: readonly HelpTopic[], globalFlags: readonly FlagSpec[]): string {
  const listed = [...commands, HELP_TOPIC, VERSION_TOPIC].sort((a, b) => (a.name < b.name ? -1 : 1));
  const text =
    "NAME:\n" +
    `\tfleetctl - ${CLI_DESCRIPTION}\n` +
    "\nUSAGE:\n\tfleetctl\n" +
    `\nVERSION:\n\t${FLEETCTL_VERSION}\n` +
    "\nCOMMANDS:\n" +
    listed.map((c) => `\t${c.name}\t${c.summary}\n`).join("") +
    "\nOPTIONS:\n" +
    flagUsages(globalFlags) +
    "\n";
  return tabwrite(text);
}

/** `fleetctl help <command>`: the command's usage, its own flags, then the global ones. */
export function commandHelp(command: HelpTopic, globalFlags: readonly FlagSpec[]): string {
  let text = "NAME:\n" + `\t${command.name} - ${command.summary}\n` + "\nUSAGE:\n" + `\tfleetctl ${command.name}${command.usage ? ` ${command.usage}` : ""}\n`;
  if (command.description) text += "\nDESCRIPTION:\n" + descriptionLines(command.description);
  if (command.flags.length > 0) text += "\nOPTIONS:\n" + flagUsages(command.flags);
  text += "\nGLOBAL OPTIONS:\n" + flagUsages(globalFlags) + "\n";
  return tabwrite(text);
}

// The command table: fleetctl's commands, how a word names one (fleet's prefix matching), and
// the usage shown with a command-line error.
import { auditCommand, tokenCommand } from "../commands/access-commands.js";
import { catCommand } from "../commands/cat-command.js";
import { completionCommand } from "../commands/completion-command.js";
import type { Command } from "../commands/command.js";
import { listMachinesCommand, listUnitFilesCommand, listUnitsCommand } from "../commands/list-commands.js";
import { restartCommand } from "../commands/restart-command.js";
import { fdForwardCommand, sshCommand } from "../commands/ssh-commands.js";
import { journalCommand, statusCommand } from "../commands/status-journal-commands.js";
import { destroyCommand, stopCommand, unloadCommand } from "../commands/stop-unload-destroy-commands.js";
import { loadCommand, startCommand, submitCommand } from "../commands/submit-load-start-commands.js";
import { verifyCommand } from "../commands/verify-command.js";
import type { FlagSpec } from "../commands/argv.js";
import { resolveCommand } from "./command-names.js";
import { GLOBAL_FLAGS } from "./global-flags.js";
import { commandHelp, globalHelp, HELP_TOPIC, VERSION_TOPIC, type HelpTopic } from "./help.js";

export const COMMANDS: readonly Command[] = [
  auditCommand,
  catCommand,
  // What it completes is read when it runs: this table, with itself in it.
  completionCommand(() => ({ commands: COMMANDS, globalFlags: GLOBAL_FLAGS })),
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
  tokenCommand,
  unloadCommand,
  verifyCommand,
];

export const HELP = "help";
export const VERSION = "version";

/** Every command name fleet's fleetctl knew (cobra's help among them). */
export const ALL_NAMES = [...COMMANDS.map((c) => c.name), HELP, VERSION];
/** The names cobra suggests for a mistyped command: not help, not the deprecated verify. */
export const SUGGESTIBLE = [...COMMANDS.map((c) => c.name).filter((n) => n !== "verify"), VERSION];

/** The command a word names, with fleet's prefix matching ("list-m" is list-machines). */
export function commandName(word: string): string | undefined {
  return resolveCommand(word, ALL_NAMES);
}

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function helpTopic(name: string): HelpTopic | undefined {
  return name === HELP ? HELP_TOPIC : name === VERSION ? VERSION_TOPIC : findCommand(name);
}

export function commandFlags(word: string): readonly FlagSpec[] | undefined {
  const name = commandName(word);
  if (name === HELP || name === VERSION) return [];
  return name === undefined ? undefined : findCommand(name)?.flags;
}

/** The word that names the command, skipping global flags and their values: for the usage shown with a flag error. */
export function commandWord(argv: readonly string[]): string | undefined {
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
export function usageOf(word: string | undefined): string {
  const topic = word === undefined ? undefined : helpTopic(commandName(word) ?? "");
  return topic ? commandHelp(topic, GLOBAL_FLAGS) : globalHelp(COMMANDS, GLOBAL_FLAGS);
}

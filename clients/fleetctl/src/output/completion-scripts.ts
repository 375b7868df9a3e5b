// fleetctl completion bash|zsh|fish: shell completion scripts made from fleetctl's own command
// table, so they name every command and flag there is. Unit arguments complete from the
// cluster (fleetctl list-unit-files, with the shell's FLEETCTL_* settings) and from local unit
// files. Pure.
import type { FlagSpec } from "../commands/argv.js";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionCatalog {
  readonly commands: ReadonlyArray<{ readonly name: string; readonly summary: string; readonly flags: readonly FlagSpec[] }>;
  readonly globalFlags: readonly FlagSpec[];
}

/** Commands whose arguments are unit names (of the cluster, or unit files here). */
const TAKES_UNITS = new Set(["cat", "destroy", "journal", "load", "restart", "start", "status", "stop", "submit", "unload", "ssh"]);

/** A case pattern of the flags that take a value as the next word ("--endpoint x"). */
const valueFlags = (flags: readonly FlagSpec[]): string =>
  flags
    .filter((f) => f.kind !== "bool")
    .flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])])
    .join("|") || "--";
const flagWords = (flags: readonly FlagSpec[]): string[] => flags.filter((f) => !f.ignored).flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
/** Text safe inside single quotes in every shell here (and fish's descriptions). */
const quoted = (text: string) => text.replace(/'/g, "").replace(/\s+/g, " ").trim();

export function completionScript(shell: Shell, catalog: CompletionCatalog): string {
  if (shell === "bash") return bashScript(catalog);
  if (shell === "zsh") return zshScript(catalog);
  return fishScript(catalog);
}

function bashScript(c: CompletionCatalog): string {
  const names = [...c.commands.map((x) => x.name), "help", "version"].sort();
  const cases = c.commands.map((x) => `    ${x.name}) flags='${flagWords(x.flags).join(" ")}'; units=${TAKES_UNITS.has(x.name) ? 1 : 0} ;;`).join("\n");
  return `# fleetctl completion for bash. Load it with
#   source <(fleetctl completion bash)
# or install it: fleetctl completion bash > /etc/bash_completion.d/fleetctl
_fleetctl_units() {
  fleetctl list-unit-files --no-legend --fields=unit 2>/dev/null
}
_fleetctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" i flags="" units=0
  local globals='${flagWords(c.globalFlags).join(" ")}'
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${valueFlags(c.globalFlags)}) ((i++)) ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$globals" -- "$cur"))
    else COMPREPLY=($(compgen -W '${names.join(" ")}' -- "$cur")); fi
    return 0
  fi
  case "$cmd" in
${cases}
    help) COMPREPLY=($(compgen -W '${names.join(" ")}' -- "$cur")); return 0 ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags $globals" -- "$cur"))
  elif [[ $units == 1 ]]; then
    COMPREPLY=($(compgen -W "$(_fleetctl_units)" -- "$cur") $(compgen -f -- "$cur"))
  fi
  return 0
}
complete -F _fleetctl fleetctl
`;
}

function zshScript(c: CompletionCatalog): string {
  const describe = c.commands.map((x) => `    '${x.name}:${quoted(x.summary).replace(/:/g, "\\:")}'`).join("\n");
  const flagSpec = (f: FlagSpec) => {
    const usage = quoted(f.usage).replace(/[[\]]/g, "");
    const value = f.kind === "bool" ? "" : `=:${f.name}:`;
    return f.short ? `'(-${f.short} --${f.name})'{-${f.short},--${f.name}}'${value}[${usage}]'` : `'--${f.name}${value}[${usage}]'`;
  };
  const cases = c.commands
    .map((x) => `    ${x.name}) _arguments ${[...x.flags.filter((f) => !f.ignored).map(flagSpec), TAKES_UNITS.has(x.name) ? "'*:unit:_fleetctl_units'" : ""].filter(Boolean).join(" ")} ;;`)
    .join("\n");
  return `#compdef fleetctl
# fleetctl completion for zsh. Load it with
#   source <(fleetctl completion zsh)
# or put it in a directory of $fpath as _fleetctl.
_fleetctl_units() {
  local -a units
  units=(\${(f)"$(fleetctl list-unit-files --no-legend --fields=unit 2>/dev/null)"})
  _alternative 'units:unit:compadd -a units' 'files:unit file:_files'
}
_fleetctl() {
  local -a commands
  commands=(
${describe}
    'help:Help about any command'
    'version:Print the version and exit'
  )
  local i cmd=""
  for ((i = 2; i < CURRENT; i++)); do
    [[ \${words[i]} == -* ]] || { cmd=\${words[i]}; break; }
  done
  if [[ -z $cmd ]]; then
    _arguments ${c.globalFlags.filter((f) => !f.ignored).map(flagSpec).join(" ")} '*::command:->cmd' && return
    _describe 'command' commands
    return
  fi
  words=("\${(@)words[i,-1]}")
  (( CURRENT -= i - 1 ))
  case $cmd in
${cases}
    help) _describe 'command' commands ;;
  esac
}
compdef _fleetctl fleetctl
`;
}

function fishScript(c: CompletionCatalog): string {
  const lines = [
    "# fleetctl completion for fish. Load it with",
    "#   fleetctl completion fish | source",
    "# or install it: fleetctl completion fish > ~/.config/fish/completions/fleetctl.fish",
    "function __fleetctl_units",
    "    fleetctl list-unit-files --no-legend --fields=unit 2>/dev/null",
    "end",
    "complete -c fleetctl -f",
  ];
  const flag = (f: FlagSpec, condition: string) =>
    `complete -c fleetctl -n '${condition}' -l ${f.name}${f.short ? ` -s ${f.short}` : ""}${f.kind === "bool" ? "" : " -r"} -d '${quoted(f.usage)}'`;
  for (const f of c.globalFlags.filter((x) => !x.ignored)) lines.push(flag(f, "true"));
  for (const x of c.commands) lines.push(`complete -c fleetctl -n '__fish_use_subcommand' -a ${x.name} -d '${quoted(x.summary)}'`);
  lines.push("complete -c fleetctl -n '__fish_use_subcommand' -a help -d 'Help about any command'", "complete -c fleetctl -n '__fish_use_subcommand' -a version -d 'Print the version and exit'");
  for (const x of c.commands) {
    const when = `__fish_seen_subcommand_from ${x.name}`;
    for (const f of x.flags.filter((y) => !y.ignored)) lines.push(flag(f, when));
    if (TAKES_UNITS.has(x.name)) lines.push(`complete -c fleetctl -n '${when}' -F -a '(__fleetctl_units)'`);
  }
  return `${lines.join("\n")}\n`;
}

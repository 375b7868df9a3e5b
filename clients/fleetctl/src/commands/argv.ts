// A small command-line parser with fleetctl's (cobra/pflag) conventions, pure:
//
//   fleetctl [global flags] <command> [flags and arguments, in any order] [-- arguments]
//
// Flags are --name=value, --name value, or --name for booleans (--name=false to unset);
// -name works too (Go's flag package style), and one-letter shorthands (-l). Global flags
// may also follow the command. A global flag not given on the command line is read from
// FLEETCTL_<NAME> (dashes become underscores), as fleetctl does.

export type FlagKind = "bool" | "string" | "int" | "float";
export type FlagValue = boolean | string | number;

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  readonly default: FlagValue;
  readonly usage: string;
  readonly short?: string;
  /** Accepted for compatibility with fleet's fleetctl, and ignored. */
  readonly ignored?: boolean;
}

export type FlagValues = ReadonlyMap<string, FlagValue>;

export interface ParsedArgs {
  /** Values of every global flag (defaults filled in). */
  readonly global: FlagValues;
  /** Global flags explicitly given on the command line. */
  readonly globalSet: ReadonlySet<string>;
  /** The command, or undefined when none was given. */
  readonly command: string | undefined;
  /** Values of every flag of the command (defaults filled in). */
  readonly flags: FlagValues;
  readonly args: readonly string[];
}

export class ArgvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgvError";
  }
}

/** pflag's error for a value its type does not parse (the cause in Go's strconv words). */
function invalid(raw: string, shown: string, parser: string): ArgvError {
  const q = JSON.stringify(raw);
  return new ArgvError(`invalid argument ${q} for ${shown}: strconv.${parser}: parsing ${q}: invalid syntax`);
}

function parseValue(spec: FlagSpec, raw: string, shown: string): FlagValue {
  switch (spec.kind) {
    case "string":
      return raw;
    case "bool": {
      const v = raw.toLowerCase();
      if (["1", "t", "true"].includes(v)) return true;
      if (["0", "f", "false"].includes(v)) return false;
      throw invalid(raw, shown, "ParseBool");
    }
    case "int": {
      if (!/^[-+]?\d+$/.test(raw.trim())) throw invalid(raw, shown, "ParseInt");
      return Number.parseInt(raw, 10);
    }
    case "float": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw invalid(raw, shown, "ParseFloat");
      return n;
    }
  }
}

function defaults(specs: readonly FlagSpec[]): Map<string, FlagValue> {
  return new Map(specs.map((s) => [s.name, s.default]));
}

function find(specs: readonly FlagSpec[], name: string): FlagSpec | undefined {
  return specs.find((s) => s.name === name || (s.short !== undefined && s.short === name));
}

/**
 * Reads the flag at argv[i] into `values` using `specs` (then `fallback`); returns how many
 * tokens it consumed, or 0 when the flag is known to neither.
 */
function readFlag(
  argv: readonly string[],
  i: number,
  specs: readonly FlagSpec[],
  values: Map<string, FlagValue>,
  set: Set<string>,
): number {
  const token = argv[i] ?? "";
  const body = token.replace(/^--?/, "");
  const eq = body.indexOf("=");
  const name = eq === -1 ? body : body.slice(0, eq);
  const spec = find(specs, name);
  if (!spec) return 0;
  // As pflag names the flag in its errors: the argument as given ("--lines=x", "--lines"; for a
  // shorthand, its letters).
  const shorthand = !token.startsWith("--") && name.length === 1;
  const shown = shorthand ? body : token;
  let consumed = 1;
  let value: FlagValue;
  if (eq !== -1) {
    value = parseValue(spec, body.slice(eq + 1), shown);
  } else if (spec.kind === "bool") {
    value = true;
  } else {
    const next = argv[i + 1];
    if (next === undefined) throw new ArgvError(shorthand ? `flag needs an argument: '${name}' in -${name}` : `flag needs an argument: ${token}`);
    value = parseValue(spec, next, shown);
    consumed = 2;
  }
  values.set(spec.name, value);
  set.add(spec.name);
  return consumed;
}

function isFlag(token: string): boolean {
  return token.startsWith("-") && token !== "-" && token !== "--";
}

/** pflag's words: "unknown flag: --x"; a single dash starts shorthands, named by the first. */
function unknownFlag(token: string): ArgvError {
  if (token.startsWith("--")) return new ArgvError(`unknown flag: --${token.slice(2).split("=")[0] ?? ""}`);
  const shorthands = token.slice(1);
  return new ArgvError(`unknown shorthand flag: '${shorthands[0] ?? ""}' in -${shorthands}`);
}

/**
 * Parses argv (without "node" and the script) given the global flags, and the flags of each
 * command (a function so unknown commands are reported by the caller, not here).
 */
export function parseArgv(
  argv: readonly string[],
  globalSpecs: readonly FlagSpec[],
  commandSpecs: (command: string) => readonly FlagSpec[] | undefined,
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedArgs {
  const global = defaults(globalSpecs);
  const globalSet = new Set<string>();
  let i = 0;
  while (i < argv.length && isFlag(argv[i] ?? "")) {
    const n = readFlag(argv, i, globalSpecs, global, globalSet);
    if (n === 0) throw unknownFlag(argv[i] ?? "");
    i += n;
  }
  if (argv[i] === "--") i++;
  const command = argv[i];
  i++;

  const specs = command === undefined ? [] : (commandSpecs(command) ?? []);
  const flags = defaults(specs);
  const flagsSet = new Set<string>();
  const args: string[] = [];
  while (i < argv.length) {
    const token = argv[i] ?? "";
    if (token === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!isFlag(token)) {
      args.push(token);
      i++;
      continue;
    }
    let n = readFlag(argv, i, specs, flags, flagsSet);
    if (n === 0) n = readFlag(argv, i, globalSpecs, global, globalSet);
    if (n === 0) throw unknownFlag(token);
    i += n;
  }

  for (const spec of globalSpecs) {
    if (globalSet.has(spec.name)) continue;
    const key = `FLEETCTL_${spec.name.toUpperCase().replace(/-/g, "_")}`;
    const raw = env[key];
    if (raw !== undefined && raw !== "") global.set(spec.name, parseValue(spec, raw, key));
  }

  return { global, globalSet, command, flags, args };
}

export function stringFlag(values: FlagValues, name: string): string {
  const v = values.get(name);
  return typeof v === "string" ? v : "";
}

export function boolFlag(values: FlagValues, name: string): boolean {
  return values.get(name) === true;
}

export function numberFlag(values: FlagValues, name: string): number {
  const v = values.get(name);
  return typeof v === "number" ? v : 0;
}

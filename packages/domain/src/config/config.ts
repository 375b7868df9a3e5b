// fleet.conf: a flat INI file of `option = value` lines, overridden by FLEET_<OPTION> environment
// variables. Each service declares the options it reads; unknown or malformed values are errors
// that name the option.

export type OptionKind = "string" | "int" | "seconds" | "bool" | "list" | "metadata" | "address" | "share";

interface KindTypes {
  string: string;
  int: number;
  seconds: number;
  bool: boolean;
  list: readonly string[];
  metadata: Readonly<Record<string, string>>;
  address: string;
  share: number;
}

export interface OptionSpec {
  readonly kind: OptionKind;
  readonly default: string;
  readonly help: string;
}

export type ConfigSchema = Readonly<Record<string, OptionSpec>>;

/** The typed values of a schema declared `as const satisfies ConfigSchema`. */
export type ResolvedConfig<S extends ConfigSchema> = { readonly [N in keyof S]: KindTypes[S[N]["kind"]] };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Parses fleet.conf text into raw option values. `#`/`;` comments; values may be double-quoted. */
export function parseConfigFile(text: string, source = "config"): Map<string, string> {
  const values = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";") || line.startsWith("[")) return;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new ConfigError(`${source}:${index + 1}: expected "option = value", got "${line}"`);
    const name = line.slice(0, eq).trim();
    values.set(name, unquote(line.slice(eq + 1).trim()));
  });
  return values;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1);
  return value;
}

/** Seconds from "5", "2.5", "500ms", "30s", "2m", "1h". */
export function parseSeconds(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  const factor = unit === "ms" ? 0.001 : unit === "s" ? 1 : unit === "m" ? 60 : 3600;
  return n * factor;
}

/**
 * fleet's metadata: `k=v,k=v`, with three quoting forms accepted by fleet:
 * plain, the whole list quoted ("k=v,k=v"), and each value quoted (k="v").
 */
export function parseMetadata(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const text = unquote(value.trim());
  if (text === "") return out;
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new ConfigError(`metadata: "${pair.trim()}" is not key=value`);
    const key = pair.slice(0, eq).trim();
    const val = unquote(pair.slice(eq + 1).trim());
    if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new ConfigError(`metadata: invalid key "${key}"`);
    out[key] = val;
  }
  return out;
}

export type ConfigValue = string | number | boolean | readonly string[] | Readonly<Record<string, string>>;

function convert(name: string, spec: OptionSpec, raw: string): ConfigValue {
  const bad = (what: string) => new ConfigError(`invalid value for ${name}: "${raw}" is not ${what}`);
  switch (spec.kind) {
    case "string":
      return raw;
    case "address":
      if (raw !== "" && !/^(unix:\/\/\/.+|[A-Za-z0-9.-]+:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5})$/.test(raw)) throw bad("host:port");
      return raw;
    case "share": {
      if (!/^(0|1|0?\.\d+|1\.0*)$/.test(raw.trim())) throw bad("a share between 0 and 1 (e.g. 0.55)");
      return Number(raw);
    }
    case "int": {
      if (!/^-?\d+$/.test(raw)) throw bad("an integer");
      return Number(raw);
    }
    case "seconds": {
      const s = parseSeconds(raw);
      if (s === undefined) throw bad('a duration (e.g. "5", "500ms", "30s")');
      return s;
    }
    case "bool":
      if (/^(true|1|yes)$/i.test(raw)) return true;
      if (/^(false|0|no|)$/i.test(raw)) return false;
      throw bad("true or false");
    case "list":
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    case "metadata":
      try {
        return parseMetadata(raw);
      } catch (err) {
        throw bad(`metadata (${(err as Error).message})`);
      }
  }
}

/**
 * Resolves a schema against file values and the environment (FLEET_<NAME> wins over the file).
 * Unknown file options are errors; environment variables for other services' options are ignored.
 */
export function resolveConfig<S extends ConfigSchema>(
  schema: S,
  file: ReadonlyMap<string, string>,
  env: Readonly<Record<string, string | undefined>>,
  knownElsewhere: readonly string[] = [],
): ResolvedConfig<S> {
  for (const name of file.keys()) {
    if (!(name in schema) && !knownElsewhere.includes(name)) throw new ConfigError(`unknown option ${name}`);
  }
  const out: Record<string, ConfigValue> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const raw = env[`FLEET_${name.toUpperCase()}`] ?? file.get(name) ?? spec.default;
    out[name] = convert(name, spec, raw);
  }
  return out as ResolvedConfig<S>;
}

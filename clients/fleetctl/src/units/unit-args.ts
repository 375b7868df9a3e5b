// Turning command-line arguments into unit names and file paths.
import { UNIT_SUFFIXES } from "@fleet/domain";

/** The last path segment: what fleetctl uses as the unit name of a file argument. */
export function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  return slash === -1 ? trimmed : trimmed.slice(slash + 1);
}

/** The directory part of a path, "." when there is none (Go's path.Dir). */
export function dirName(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash === -1) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

export function joinPath(dir: string, name: string): string {
  if (dir === ".") return name;
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

/** Whether the argument already ends in a unit type (".service", ".socket", ...). */
export function hasUnitSuffix(arg: string): boolean {
  return UNIT_SUFFIXES.some((suffix) => arg.endsWith(`.${suffix}`));
}

/** fleet's maybeAppendDefaultUnitType: "hello" -> "hello.service", "x.socket" unchanged. */
export function withDefaultUnitType(arg: string): string {
  return hasUnitSuffix(arg) ? arg : `${arg}.service`;
}

/** fleet's unitNameMangle: the unit name an argument (name or path) stands for. */
export function unitNameOfArg(arg: string): string {
  return withDefaultUnitType(baseName(arg));
}

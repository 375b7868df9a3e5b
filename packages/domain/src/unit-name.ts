// systemd unit names as fleet accepts them. A unit name becomes a file name on a machine, so
// every boundary validates it with these rules before storing it or touching a disk.
//
//   name     = prefix "." suffix | prefix "@" instance "." suffix
//   prefix   = 1*[a-zA-Z0-9:_.-]         (everything before the first "@")
//   instance = *[a-zA-Z0-9:_.@-]         (empty: a template, "foo@.service")
//   suffix   = one of UNIT_SUFFIXES       (everything after the last ".")
import { FleetError } from "./errors.js";

/** The unit types systemd knows, i.e. the suffixes a unit name may end in. */
export const UNIT_SUFFIXES = [
  "automount",
  "busname",
  "device",
  "mount",
  "path",
  "scope",
  "service",
  "slice",
  "snapshot",
  "socket",
  "swap",
  "target",
  "timer",
] as const;

export type UnitSuffix = (typeof UNIT_SUFFIXES)[number];

/** The unit types systemd lets be templated (and so instantiated). */
export const TEMPLATE_SUFFIXES: readonly UnitSuffix[] = ["path", "service", "socket", "target", "timer"];

export const MAX_UNIT_NAME_LENGTH = 256;

const ALLOWED = /^[a-zA-Z0-9:_.@-]*$/;

export interface UnitName {
  /** The part before "@" (or before the suffix for a plain unit): "foo" of "foo@1.service". */
  readonly prefix: string;
  /** "1" of "foo@1.service", "" of "foo@.service", undefined of "foo.service". */
  readonly instance: string | undefined;
  readonly suffix: UnitSuffix;
  /** foo@.service */
  readonly isTemplate: boolean;
  /** foo@1.service */
  readonly isInstance: boolean;
}

/** An invalid unit name: an invalid-argument FleetError whose message names the rule that failed. */
export class InvalidUnitNameError extends FleetError {
  constructor(
    readonly unitName: string,
    message: string,
  ) {
    super("invalid-argument", message);
    this.name = "InvalidUnitNameError";
  }
}

function isUnitSuffix(value: string): value is UnitSuffix {
  return (UNIT_SUFFIXES as readonly string[]).includes(value);
}

type Checked = { ok: true; name: UnitName } | { ok: false; rule: string };

function check(name: string): Checked {
  if (name.length === 0) return { ok: false, rule: "must not be empty" };
  if (name.length > MAX_UNIT_NAME_LENGTH) {
    return { ok: false, rule: `must be at most ${MAX_UNIT_NAME_LENGTH} characters long` };
  }
  if (!ALLOWED.test(name)) return { ok: false, rule: "only [a-zA-Z0-9:_.@-] are allowed" };
  const dot = name.lastIndexOf(".");
  if (dot === -1) return { ok: false, rule: `must end in a unit type suffix (.${UNIT_SUFFIXES.join(", .")})` };
  const suffix = name.slice(dot + 1);
  if (!isUnitSuffix(suffix)) {
    return { ok: false, rule: `unknown unit type ".${suffix}", expected one of .${UNIT_SUFFIXES.join(", .")}` };
  }
  const stem = name.slice(0, dot);
  const at = stem.indexOf("@");
  const prefix = at === -1 ? stem : stem.slice(0, at);
  const instance = at === -1 ? undefined : stem.slice(at + 1);
  if (prefix.length === 0) return { ok: false, rule: "the name before the suffix (and before any \"@\") must not be empty" };
  if (instance !== undefined && !TEMPLATE_SUFFIXES.includes(suffix)) {
    return { ok: false, rule: `templates and instances are only allowed for .${TEMPLATE_SUFFIXES.join(", .")} units` };
  }
  return {
    ok: true,
    name: { prefix, instance, suffix, isTemplate: instance === "", isInstance: instance !== undefined && instance !== "" },
  };
}

function describe(name: string, rule: string): string {
  return `invalid unit name ${JSON.stringify(name)}: ${rule}`;
}

/** Why `name` is not a valid unit name, or undefined when it is. */
export function unitNameError(name: string): string | undefined {
  const checked = check(name);
  return checked.ok ? undefined : describe(name, checked.rule);
}

export function isValidUnitName(name: string): boolean {
  return check(name).ok;
}

/** Throws InvalidUnitNameError with the rule that failed. */
export function assertValidUnitName(name: string): void {
  parseUnitName(name);
}

/** The parts of a valid unit name; throws InvalidUnitNameError for an invalid one. */
export function parseUnitName(name: string): UnitName {
  const checked = check(name);
  if (!checked.ok) throw new InvalidUnitNameError(name, describe(name, checked.rule));
  return checked.name;
}

/** The template an instance is made from (foo@1.service -> foo@.service), else undefined. */
export function templateNameOf(name: string): string | undefined {
  const checked = check(name);
  if (!checked.ok || !checked.name.isInstance) return undefined;
  return `${checked.name.prefix}@.${checked.name.suffix}`;
}

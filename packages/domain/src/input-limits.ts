// What fleet accepts from its callers, beyond each field's own syntax: no control characters
// where they would change what systemd or a reader sees, and sizes that every hop (gRPC
// messages, etcd requests of at most 1.5 MiB) carries. The api checks these before anything is
// sent on, and the registry again before anything is stored. Pure.
import { FleetError } from "./errors.js";
import type { UnitOption } from "./types.js";
import { serializeUnitFile, unitOptionValueError } from "./unit-files/unit-file.js";

/** The limits, each named as error messages name it. */
export const INPUT_LIMITS = {
  /** A unit file as fleet serializes it, in bytes (a unit file is a few KiB). */
  unitFileBytes: 256 * 1024,
  /** Options of one unit. */
  unitOptions: 1000,
  /** Metadata entries of one machine. */
  machineMetadataEntries: 64,
  /** All of one machine's metadata keys and values, in bytes. */
  machineMetadataBytes: 16 * 1024,
  /** One metadata value, in characters. */
  metadataValueLength: 1024,
  /** Units one CreateUnits request may create. */
  unitsPerRequest: 1000,
} as const;

export type InputLimit = keyof typeof INPUT_LIMITS;

/** The first control character in `text` other than those `allowed`, as `U+0000`; undefined when none. */
export function controlCharacterIn(text: string, allowed = ""): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 || (c >= 0x7f && c <= 0x9f)) && !allowed.includes(text[i] as string)) return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return undefined;
}

/** Bytes of `text` in UTF-8 (a lone surrogate counts as the 3 bytes of its replacement). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function tooLarge(what: string, size: number, limit: InputLimit, unit: string): FleetError {
  return new FleetError("resource-exhausted", `${what} is ${size} ${unit}; the limit is ${INPUT_LIMITS[limit]} ${unit} (${limit})`);
}

/**
 * Refuses a unit's options that fleet must not store: too many, too large a file, a control
 * character in a section or option name, or in a value (a tab is kept; a line break only as a
 * continuation, see unitOptionValueError). `unitName` is for the messages.
 */
export function assertUnitInput(unitName: string, options: readonly UnitOption[]): void {
  if (options.length > INPUT_LIMITS.unitOptions) throw tooLarge(`unit ${unitName}: its option count`, options.length, "unitOptions", "options");
  for (const o of options) {
    const inSection = controlCharacterIn(o.section);
    if (inSection) throw new FleetError("invalid-argument", `unit ${unitName}: section name ${JSON.stringify(o.section)} contains the control character ${inSection}`);
    const inName = controlCharacterIn(o.name);
    if (inName) throw new FleetError("invalid-argument", `unit ${unitName}: option name ${JSON.stringify(o.name)} in [${o.section}] contains the control character ${inName}`);
    const valueError = unitOptionValueError(o.name, o.value);
    if (valueError) throw new FleetError("invalid-argument", `unit ${unitName}: ${valueError}`);
    const inValue = controlCharacterIn(o.value, "\t\n");
    if (inValue) throw new FleetError("invalid-argument", `unit ${unitName}: value of ${o.name} contains the control character ${inValue}`);
  }
  const bytes = utf8Length(serializeUnitFile(options));
  if (bytes > INPUT_LIMITS.unitFileBytes) throw tooLarge(`unit ${unitName}: its unit file`, bytes, "unitFileBytes", "bytes");
}

/** Refuses a metadata key that is not fleet's (letters, digits, `_.-`, at most 128). */
export function assertMetadataKey(key: string): void {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(key)) throw new FleetError("invalid-argument", `invalid metadata key ${JSON.stringify(key)}: 1 to 128 letters, digits, '_', '.' or '-'`);
}

/** Refuses a request creating more units than one request may. */
export function assertUnitCount(count: number): void {
  if (count > INPUT_LIMITS.unitsPerRequest) throw tooLarge("the request's unit count", count, "unitsPerRequest", "units");
}

/** Refuses a metadata value with a control character, a comma, or too long (keys have their own syntax). */
export function assertMetadataValue(key: string, value: string): void {
  const control = controlCharacterIn(value);
  if (control) throw new FleetError("invalid-argument", `invalid value for metadata key ${JSON.stringify(key)}: it contains the control character ${control}`);
  if (value.includes(",")) throw new FleetError("invalid-argument", `invalid value for metadata key ${JSON.stringify(key)}: it contains a comma`);
  if (value.length > INPUT_LIMITS.metadataValueLength) throw tooLarge(`the value of metadata key ${JSON.stringify(key)}`, value.length, "metadataValueLength", "characters");
}

/** Refuses a machine's metadata, as it would be after a change, when it is over its limits. */
export function assertMachineMetadataSize(machineId: string, metadata: Readonly<Record<string, string>>): void {
  const entries = Object.entries(metadata);
  if (entries.length > INPUT_LIMITS.machineMetadataEntries) throw tooLarge(`the metadata of machine ${machineId}`, entries.length, "machineMetadataEntries", "entries");
  const bytes = entries.reduce((n, [k, v]) => n + utf8Length(k) + utf8Length(v), 0);
  if (bytes > INPUT_LIMITS.machineMetadataBytes) throw tooLarge(`the metadata of machine ${machineId}`, bytes, "machineMetadataBytes", "bytes");
}

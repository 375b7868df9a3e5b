// MachineMetadata= requirements and how a machine's metadata satisfies them (fleet's
// machine.HasMetadata):
//
//   MachineMetadata="region=us-east" "disk=ssd"     ->  region=us-east AND disk=ssd
//   MachineMetadata=region=us-east                  ->  region is us-east OR us-west
//   MachineMetadata=region=us-west
//
// Values of one key are alternatives; different keys must all hold. A machine without the
// key does not match. Keys and values compare exactly (case matters).

/** key -> the values any one of which satisfies it; keys and values sorted. */
export type MetadataRequirement = ReadonlyArray<readonly [key: string, values: readonly string[]]>;

export interface ParsedMetadata {
  readonly requirement: MetadataRequirement;
  /** Values that are not `key=value` with a non-empty key and value (fleet ignores them). */
  readonly malformed: readonly string[];
}

/** The requirement made of `key=value` pairs (already split into single pairs). */
export function parseMetadataRequirement(pairs: readonly string[]): ParsedMetadata {
  // Small arrays rather than maps and sets: a unit names a handful of pairs at most.
  const requirement: Array<[string, string[]]> = [];
  let malformed: string[] | undefined;
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || eq === pair.length - 1 || pair.indexOf("=", eq + 1) !== -1) {
      (malformed ??= []).push(pair);
      continue;
    }
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const entry = requirement.find((e) => e[0] === key);
    if (entry === undefined) requirement.push([key, [value]]);
    else if (!entry[1].includes(value)) entry[1].push(value);
  }
  if (requirement.length > 1) requirement.sort((a, b) => compare(a[0], b[0]));
  for (const entry of requirement) if (entry[1].length > 1) entry[1].sort(compare);
  return { requirement, malformed: malformed ?? [] };
}

/** True when the machine's metadata satisfies every key of the requirement. */
export function machineMatchesMetadata(metadata: Readonly<Record<string, string>>, requirement: MetadataRequirement): boolean {
  for (const [key, values] of requirement) {
    if (!Object.hasOwn(metadata, key)) return false;
    if (!values.includes(metadata[key] as string)) return false;
  }
  return true;
}

/** A canonical text of the requirement: equal requirements give equal keys. */
export function metadataKey(requirement: MetadataRequirement): string {
  return requirement.map(([key, values]) => `${key}=${values.join("\u0000")}`).join("\u0001");
}

/** For people: `region=west`, `(region=east or region=west) and disk=ssd`. */
export function describeMetadata(requirement: MetadataRequirement): string {
  const terms = requirement.map(([key, values]) => {
    const alternatives = values.map((v) => `${key}=${v}`);
    return alternatives.length > 1 && requirement.length > 1 ? `(${alternatives.join(" or ")})` : alternatives.join(" or ");
  });
  return terms.join(" and ");
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// What the registry refuses to store, in the words users see (INVALID_ARGUMENT). Unit names and
// machine ids are checked by the domain's rules (assertValidUnitName, assertMachineId).
import { assertMetadataKey, assertMetadataValue, assertUnitInput, FleetError, parseUnitName, xFleetError, type TargetState, type UnitOption } from "@fleet/domain";


/** fleet refuses to schedule a template (foo@.service): only its instances can run. */
export function assertSchedulable(name: string, desiredState: TargetState): void {
  if (desiredState !== "inactive" && parseUnitName(name).isTemplate) throw new FleetError("invalid-argument", `cannot activate template ${JSON.stringify(name)}`);
}

/** A unit's options: at least one, sane section and option names, values systemd can read, a valid [X-Fleet] section. */
export function assertOptions(name: string, options: readonly UnitOption[]): void {
  if (options.length === 0) throw new FleetError("invalid-argument", "unit has no options");
  for (const o of options) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(o.section)) throw new FleetError("invalid-argument", `invalid section name "${o.section}"`);
    if (!/^[A-Za-z0-9_.:-]+$/.test(o.name)) throw new FleetError("invalid-argument", `invalid option name "${o.name}" in [${o.section}]`);
  }
  assertUnitInput(name, options);
  const xFleet = xFleetError(name, options);
  if (xFleet) throw new FleetError("invalid-argument", xFleet);
}

export function assertMetadata(key: string, value: string): void {
  assertMetadataKey(key);
  assertMetadataValue(key, value);
}

export function assertLeaseId(leaseId: string): void {
  if (!/^\d+$/.test(leaseId)) throw new FleetError("invalid-argument", `invalid lease id "${leaseId}"`);
}

export function assertCandidateId(candidateId: string): void {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(candidateId)) throw new FleetError("invalid-argument", `invalid candidate id "${candidateId}"`);
}

export function assertRegistration(ttlSeconds: number, instance: string): void {
  if (!(ttlSeconds >= 1 && ttlSeconds <= 3600)) throw new FleetError("invalid-argument", "ttl must be between 1 and 3600 seconds");
  if (instance.length > 128) throw new FleetError("invalid-argument", "instance is longer than 128 characters");
}

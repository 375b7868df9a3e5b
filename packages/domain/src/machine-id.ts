// Machine ids as fleet knows them: systemd's /etc/machine-id, 32 lowercase hex digits. Every
// boundary that takes a machine id checks it with these rules, and users read the same message.
import { FleetError } from "./errors.js";

const MACHINE_ID = /^[0-9a-f]{32}$/;

export function isMachineId(id: string): boolean {
  return MACHINE_ID.test(id);
}

/** Why `id` is not a machine id, or undefined when it is. */
export function machineIdError(id: string): string | undefined {
  return isMachineId(id) ? undefined : `invalid machine id ${JSON.stringify(id)}: expected 32 lowercase hex digits`;
}

/** Throws an invalid-argument FleetError for anything but a machine id. */
export function assertMachineId(id: string): void {
  const error = machineIdError(id);
  if (error) throw new FleetError("invalid-argument", error);
}

// How fleetctl names machines and their metadata in its output.
import type { Machine } from "@fleet/domain";

/** fleet's MachineState.ShortID: the first 8 characters of the machine id. */
export function shortMachineId(id: string): string {
  return id.slice(0, 8);
}

/** "113f16a7..." or, with --full, the whole id. */
export function machineIdLegend(machine: Pick<Machine, "id">, full: boolean): string {
  return full ? machine.id : `${shortMachineId(machine.id)}...`;
}

/** "113f16a7.../10.0.0.3": the id legend, then the public IP when the machine has one. */
export function machineFullLegend(machine: Pick<Machine, "id" | "publicIp">, full: boolean): string {
  const legend = machineIdLegend(machine, full);
  return machine.publicIp ? `${legend}/${machine.publicIp}` : legend;
}

const OPERATORS = ["<=", ">=", "!=", "==", "<", ">"];

/** "k=v,k=v" sorted by key; a value that starts with a comparison operator is printed as "k>=v". */
export function formatMetadata(metadata: Readonly<Record<string, string>>): string {
  return Object.keys(metadata)
    .sort()
    .map((key) => {
      const value = metadata[key] ?? "";
      return OPERATORS.some((op) => value.startsWith(op)) ? `${key}${value}` : `${key}=${value}`;
    })
    .join(",");
}

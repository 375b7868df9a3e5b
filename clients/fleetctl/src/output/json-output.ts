// fleetctl's --output json: one JSON document per command, with the field names of fleet's
// HTTP API v1 entities (docs/api.md) so that scripts read the same names from both, plus the
// few fields fleet's tables show that its entities lack (a machine's IP beside its id, why a
// unit is not placed). Documented in docs/fleetctl.md; a field is never renamed or removed.
import type { Machine, UnitState } from "@fleet/domain";
import type { UnitView } from "../api/fleet-api.js";

export const OUTPUT_FORMATS = ["table", "json"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** --output's value, or an error naming the flag. Pure. */
export function outputFormat(value: string): OutputFormat | { error: string } {
  return (OUTPUT_FORMATS as readonly string[]).includes(value) ? (value as OutputFormat) : { error: `invalid value "${value}" for --output: use table or json` };
}

export interface MachineJson {
  id: string;
  primaryIP: string;
  metadata: Record<string, string>;
}

export interface UnitStateJson {
  name: string;
  hash: string;
  machineID: string;
  machineIP: string;
  systemdLoadState: string;
  systemdActiveState: string;
  systemdSubState: string;
  currentState: string;
}

export interface UnitFileJson {
  name: string;
  hash: string;
  desiredState: string;
  currentState: string;
  machineID: string;
  machineIP: string;
  /** Why the unit is on no machine ("" when nothing stands in the way). */
  reason: string;
  options: Array<{ section: string; name: string; value: string }>;
}

export function machinesJson(machines: readonly Machine[]): { machines: MachineJson[] } {
  return { machines: machines.map((m) => ({ id: m.id, primaryIP: m.publicIp, metadata: { ...m.metadata } })) };
}

export function unitStatesJson(states: readonly UnitState[], machines: ReadonlyMap<string, Machine>): { states: UnitStateJson[] } {
  return {
    states: states.map((s) => ({
      name: s.name,
      hash: s.hash,
      machineID: s.machineId,
      machineIP: machines.get(s.machineId)?.publicIp ?? "",
      systemdLoadState: s.loadState,
      systemdActiveState: s.activeState,
      systemdSubState: s.subState,
      currentState: s.currentState,
    })),
  };
}

export function unitFilesJson(views: readonly UnitView[], machines: ReadonlyMap<string, Machine>): { units: UnitFileJson[] } {
  return {
    units: views.map((v) => ({
      name: v.unit.name,
      hash: v.unit.hash,
      desiredState: v.unit.desiredState,
      currentState: v.currentState,
      machineID: v.machineId,
      machineIP: machines.get(v.machineId)?.publicIp ?? "",
      reason: v.reason,
      options: v.unit.options.map((o) => ({ section: o.section, name: o.name, value: o.value })),
    })),
  };
}

export interface UnitStatusJson {
  name: string;
  machineID: string;
  desiredState: string;
  currentState: string;
  /** `systemctl status -l UNIT` on its machine, as fleetctl status prints it. */
  status: string;
  statusExitCode: number;
}

export function unitStatusJson(view: UnitView, status: { text: string; exitCode: number }): UnitStatusJson {
  return { name: view.unit.name, machineID: view.machineId, desiredState: view.unit.desiredState, currentState: view.currentState, status: status.text, statusExitCode: status.exitCode };
}

/** The document as fleetctl prints it: indented, one trailing newline. */
export function renderJson(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

// The registry's records as etcd holds them (JSON values), decoded leniently: a value that cannot
// be read is undefined and the cache skips it. Pure.
import { isTargetState, type Machine, type Unit, type UnitOption, type UnitState } from "@fleet/domain";

/** Metadata changed through the API, applied over what the agent registers. */
export interface MetadataOverride {
  readonly set: Readonly<Record<string, string>>;
  readonly removed: readonly string[];
}

/** What the engine leader says of the machines' liveness (engine/status). */
export interface EngineStatusRecord {
  readonly massLoss: string;
  readonly heldMachines: ReadonlyArray<{ readonly machineId: string; readonly reason: string }>;
}

export interface StoredPlacement {
  readonly machineId: string;
  readonly reason: string;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");

function decodeOptions(v: unknown): UnitOption[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: UnitOption[] = [];
  for (const o of v) {
    if (typeof o !== "object" || o === null) return undefined;
    const r = o as Record<string, unknown>;
    out.push({ section: str(r.section), name: str(r.name), value: str(r.value) });
  }
  return out;
}

export function decodeUnit(text: string, name: string): Unit | undefined {
  const r = parseJson(text);
  const options = decodeOptions(r?.options);
  const desired = str(r?.desiredState);
  if (!r || !options || !isTargetState(desired)) return undefined;
  return { name, options, hash: str(r.hash), desiredState: desired };
}

export function decodePlacement(text: string): StoredPlacement | undefined {
  const r = parseJson(text);
  return r ? { machineId: str(r.machineId), reason: str(r.reason) } : undefined;
}

export function decodeMachine(text: string, id: string): Machine | undefined {
  const r = parseJson(text);
  if (!r) return undefined;
  const metadata: Record<string, string> = {};
  if (typeof r.metadata === "object" && r.metadata !== null) {
    for (const [k, v] of Object.entries(r.metadata)) if (typeof v === "string") metadata[k] = v;
  }
  const agentEndpoint = str(r.agentEndpoint);
  return agentEndpoint ? { id, publicIp: str(r.publicIp), metadata, agentEndpoint } : { id, publicIp: str(r.publicIp), metadata };
}

export function applyOverride(metadata: Readonly<Record<string, string>>, override: MetadataOverride): Record<string, string> {
  const out: Record<string, string> = { ...metadata };
  for (const k of override.removed) delete out[k];
  return Object.assign(out, override.set);
}

export function decodeOverride(text: string): MetadataOverride | undefined {
  const r = parseJson(text);
  if (!r) return undefined;
  const set: Record<string, string> = {};
  if (typeof r.set === "object" && r.set !== null) for (const [k, v] of Object.entries(r.set)) if (typeof v === "string") set[k] = v;
  const removed = Array.isArray(r.removed) ? r.removed.filter((k): k is string => typeof k === "string") : [];
  return { set, removed };
}

export function decodeState(text: string, machineId: string, name: string): UnitState | undefined {
  const r = parseJson(text);
  if (!r) return undefined;
  const current = str(r.currentState);
  return {
    name,
    machineId,
    hash: str(r.hash),
    loadState: str(r.loadState),
    activeState: str(r.activeState),
    subState: str(r.subState),
    currentState: isTargetState(current) ? current : "inactive",
    ...(str(r.reason) ? { reason: str(r.reason) } : {}),
  };
}

export function decodeEngineStatus(value: string): EngineStatusRecord | undefined {
  try {
    const v: unknown = JSON.parse(value);
    if (typeof v !== "object" || v === null) return undefined;
    const massLoss = "massLoss" in v && typeof v.massLoss === "string" ? v.massLoss : "";
    const held = "heldMachines" in v && Array.isArray(v.heldMachines) ? (v.heldMachines as unknown[]) : [];
    const heldMachines = held.flatMap((h) =>
      typeof h === "object" && h !== null && "machineId" in h && typeof h.machineId === "string" && "reason" in h && typeof h.reason === "string"
        ? [{ machineId: h.machineId, reason: h.reason }]
        : [],
    );
    return { massLoss, heldMachines };
  } catch {
    return undefined;
  }
}

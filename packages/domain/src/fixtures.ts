// Fixture builders for table tests of the pure decisions (scheduler, agent plan).
import type { Machine, Placement, TargetState, Unit, UnitOption } from "./types.js";

export { FakeClock, turn } from "./fake-clock.js";

export function makeUnit(name: string, desiredState: TargetState = "launched", options: UnitOption[] = []): Unit {
  const body = options.length > 0 ? options : [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
  return { name, options: body, hash: `hash-of-${name}`, desiredState };
}

export function makeMachine(id: string, metadata: Record<string, string> = {}): Machine {
  return { id, publicIp: `10.0.0.${id.length}`, metadata };
}

export function placed(unitName: string, machineId: string, reason = ""): Placement {
  return { unitName, machineId, reason };
}

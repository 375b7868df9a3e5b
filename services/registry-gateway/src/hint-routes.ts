// Which NATS subjects hear about a change: agents only about their own machine (or about
// global units), the engine about what scheduling depends on. Pure.
import { ALL_MACHINES_SUBJECT, ENGINE_SUBJECT, isGlobalUnit, machineSubject } from "@fleet/domain";
import type { CacheChange } from "./registry-cache.js";

/** Subjects to notify; `machineOf` gives a unit's current machine ("" when unscheduled). */
export function hintSubjects(change: CacheChange, machineOf: (unit: string) => string): string[] {
  const subjects = new Set<string>();
  switch (change.kind) {
    case "unit": {
      subjects.add(ENGINE_SUBJECT);
      const machine = machineOf(change.name);
      if (machine) subjects.add(machineSubject(machine));
      const global = [change.before, change.after].some((u) => u !== undefined && isGlobalUnit(u.options));
      if (global) subjects.add(ALL_MACHINES_SUBJECT);
      break;
    }
    case "schedule":
      if (change.before?.machineId) subjects.add(machineSubject(change.before.machineId));
      if (change.after?.machineId) subjects.add(machineSubject(change.after.machineId));
      break;
    case "machine":
      if (!change.before || !change.after) subjects.add(ENGINE_SUBJECT);
      else if (JSON.stringify(change.before.metadata) !== JSON.stringify(change.after.metadata)) {
        subjects.add(ENGINE_SUBJECT);
        subjects.add(machineSubject(change.id));
      }
      break;
    case "leader":
      if (!change.after) subjects.add(ENGINE_SUBJECT);
      break;
    case "state":
      break;
  }
  return [...subjects];
}

// Which NATS subjects hear about a change: agents only about their own machine (or about
// global units), the engine about what scheduling depends on. Pure.
import { ALL_MACHINES_SUBJECT, ENGINE_SUBJECT, hintSpreadMs, machineSubject, type Hint } from "@fleet/domain";
import type { CacheChange } from "./registry-cache.js";
import { scheduleConcerns } from "./schedule-revisions.js";

/** Subjects to notify; `machineOf` gives a unit's current machine ("" when unscheduled). */
export function hintSubjects(change: CacheChange, machineOf: (unit: string) => string): string[] {
  const subjects = new Set<string>();
  switch (change.kind) {
    case "unit":
    case "schedule": {
      // The engine hears of every unit change; machines of what alters their schedule.
      if (change.kind === "unit") subjects.add(ENGINE_SUBJECT);
      const { machines, all } = scheduleConcerns(change, machineOf);
      for (const id of machines) subjects.add(machineSubject(id));
      if (all) subjects.add(ALL_MACHINES_SUBJECT);
      break;
    }
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

/**
 * The hint published on a subject: one every machine hears asks them to spread their passes over
 * the time `machines` take at `spreadRate` machines a second (hint_spread_rate), so that a
 * global unit's change does not come back to the gateways as every machine's schedule read and
 * state report at once. Pure.
 */
export function hintOn(subject: string, hint: Hint, machines: number, spreadRate: number): Hint {
  if (subject !== ALL_MACHINES_SUBJECT) return hint;
  const spreadMs = hintSpreadMs(machines, spreadRate);
  return spreadMs > 0 ? { ...hint, spreadMs } : hint;
}

// restart: a rolling restart, one unit at a time. Each unit is stopped (back to loaded) and
// started again, and fleetctl waits for it to be launched before it touches the next one.
import { isGlobalUnit, type TargetState } from "@fleet/domain";
import { numberFlag } from "./argv.js";
import type { Command } from "./command.js";
import { failureLine, say, warn, type CommandContext } from "./context.js";
import type { UnitView } from "./fleet-api.js";
import { findUnits } from "./unit-commands.js";
import { waitForUnitStates } from "./wait.js";

/** Sets the unit's desired state and, unless it is global, waits for it; false on failure. */
async function setAndWait(ctx: CommandContext, view: UnitView, target: TargetState, attempts: number): Promise<boolean> {
  const name = view.unit.name;
  try {
    await ctx.api.setUnitTargetState(name, target);
  } catch (err) {
    warn(ctx, failureLine(`Error setting target state of unit ${name}`, err));
    return false;
  }
  if (isGlobalUnit(view.unit.options)) return true;
  const errors = await waitForUnitStates(ctx, [name], target, attempts);
  for (const error of errors) warn(ctx, `Error waiting for unit ${name} to change states: ${error}`);
  return errors.length === 0;
}

export const restartCommand: Command = {
  name: "restart",
  summary: "Instruct systemd to rolling restart one or more units in the cluster.",
  usage: "[--block-attempts=N] UNIT...",
  description: `Restarts one or more units in the cluster. If they are stopped it starts them.

Instructs systemd on the host machine to stop then start the unit, deferring to systemd
completely for any custom restart directives (i.e. ExecStop options in the unit
file).

Units are restarted one at a time: fleetctl waits until a unit has stopped and is
launched again before it restarts the next one. --block-attempts bounds each wait.
Restart operations on global units are never waited for.

Restart a single unit:
	fleetctl restart foo.service

Restart an entire directory of units with glob matching:
	fleetctl restart myservice/*`,
  flags: [
    {
      name: "block-attempts",
      kind: "int",
      default: 0,
      usage: "Wait until the units are stopped/started, performing up to N attempts before giving up. A value of 0 indicates no limit. Does not apply to global units.",
    },
  ],
  async run(ctx, flags, args) {
    if (args.length === 0) {
      warn(ctx, "No units were found");
      return 1;
    }
    const views = await findUnits(ctx, args);
    if (!views) return 1;
    const attempts = Math.max(numberFlag(flags, "block-attempts"), 0);
    for (const view of views) {
      const global = isGlobalUnit(view.unit.options);
      if (view.currentState === "inactive" && !global) {
        warn(ctx, `Unable to restart unit ${view.unit.name} in state inactive`);
        return 1;
      }
      if (view.currentState === "loaded" && !global) {
        // Stopped: starting it is the restart.
        if (!(await setAndWait(ctx, view, "launched", attempts))) return 1;
        continue;
      }
      if (!(await setAndWait(ctx, view, "loaded", attempts))) return 1;
      if (!(await setAndWait(ctx, view, "launched", attempts))) return 1;
      say(ctx, `Unit(${view.unit.name}) was restarted.`);
    }
    return 0;
  },
};

// restart: a rolling restart, one unit at a time. Each unit is stopped (back to loaded) and
// started again, and fleetctl waits for it to be launched before it touches the next one.
// Output as fleet 1.0's: the waits' lines on stdout, its log lines ("Unit(x) was restarted.")
// and errors on stderr. Unlike fleet 1.0, the stop waits for `loaded` (fleet's waited for
// `launched` by mistake, see the README's differences).
import { isGlobalUnit, type TargetState } from "@fleet/domain";
import { numberFlag } from "./argv.js";
import type { Command } from "./command.js";
import { failureLine, logLine, warn, type CommandContext } from "../context/context.js";
import type { UnitView } from "../api/fleet-api.js";
import { findUnits, tryWaitForUnitStates } from "./unit-steps.js";

/** fleet's setUnitStateAndWait, for one unit that is not global; false on failure. */
async function setAndWait(ctx: CommandContext, view: UnitView, target: TargetState, attempts: number): Promise<boolean> {
  const name = view.unit.name;
  try {
    await ctx.api.setUnitTargetState(name, target);
  } catch (err) {
    warn(ctx, failureLine(`Error setting target state for unit ${name}`, err));
    return false;
  }
  const error = await tryWaitForUnitStates(ctx, [name], "restart", target, attempts);
  if (error === undefined) return true;
  warn(ctx, `Error waiting for unit states, exit status: ${error}`);
  return false;
}

/** A global unit: back to loaded, then launched, without waiting (it has no single state). */
async function restartGlobal(ctx: CommandContext, view: UnitView): Promise<boolean> {
  for (const target of ["loaded", "launched"] as const) {
    try {
      await ctx.api.setUnitTargetState(view.unit.name, target);
    } catch (err) {
      warn(ctx, failureLine(`Error setting target state for unit ${view.unit.name}`, err));
      return false;
    }
  }
  return true;
}

export const restartCommand: Command = {
  name: "restart",
  summary: "Instruct systemd to rolling restart one or more units in the cluster.",
  usage: "[--block-attempts=N] UNIT...",
  description: `Restarts one or more units in the cluster. If they are stopped it starts them.

Instructs systemd on the host machine to stop then start the unit, deferring to systemd
completely for any custom restart directives (i.e. ExecStop options in the unit
file).

For units which are not global, restart operations are performed synchronously,
which means fleetctl will block until it detects that the unit(s) have
transitioned to a stopped state and then back to a started state. This behaviour can be configured with the
respective --block-attempts options. Restart operations on global
units are always non-blocking.

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
      warn(ctx, "No units given");
      return 0;
    }
    const views = await findUnits(ctx, args);
    if (!views) return 1;
    const attempts = Math.max(numberFlag(flags, "block-attempts"), 0);
    for (const view of views) {
      const name = view.unit.name;
      if (isGlobalUnit(view.unit.options)) {
        if (!(await restartGlobal(ctx, view))) return 1;
        continue;
      }
      if (view.currentState === "inactive") {
        // As fleet: said, skipped, and not a failure.
        warn(ctx, `Unable to restart unit ${name} in state inactive`);
        continue;
      }
      if (view.currentState === "loaded") {
        // Stopped: starting it is the restart.
        logLine(ctx, "INFO", "restart.go:82", `Unit(${name}) already loaded, starting.`);
        if (!(await setAndWait(ctx, view, "launched", attempts))) return 1;
        continue;
      }
      if (!(await setAndWait(ctx, view, "loaded", attempts))) return 1;
      if (!(await setAndWait(ctx, view, "launched", attempts))) return 1;
      logLine(ctx, "INFO", "restart.go:100", `Unit(${name}) was restarted.`);
    }
    return 0;
  },
};

// stop, unload and destroy: fleet's flows, messages and exit codes for units already in the
// cluster (all the named units or none).
import { isGlobalUnit } from "@fleet/domain";
import type { UnitView } from "../api/fleet-api.js";
import { blockAttempts, blockFlags, type Command } from "./command.js";
import { failureLine, say, warn } from "../context/context.js";
import { findUnits, goList, noUnits, tryWaitForUnitStates } from "./unit-steps.js";

export const stopCommand: Command = {
  name: "stop",
  summary: "Instruct systemd to stop one or more units in the cluster.",
  usage: "[--no-block|--block-attempts=N] UNIT...",
  description: `Stop one or more units from running in the cluster, but allow them to be
started again in the future.

Instructs systemd on the host machine to stop the unit, deferring to systemd
completely for any custom stop directives (i.e. ExecStop option in the unit
file).

For units which are not global, stop operations are performed synchronously,
which means fleetctl will block until it detects that the unit(s) have
transitioned to a stopped state. This behaviour can be configured with the
respective --block-attempts and --no-block options. Stop operations on global
units are always non-blocking.

Stop a single unit:
fleetctl stop foo.service

Stop an entire directory of units with glob matching, without waiting:
fleetctl stop --no-block myservice/*`,
  flags: blockFlags("stop"),
  async run(ctx, flags, args) {
    if (noUnits(ctx, args)) return 0;
    const views = await findUnits(ctx, args);
    if (!views) return 1;
    // fleet only stops units that run: an inactive unit is an error, a loaded one is done
    // (unless it is still on its way to launched, which this stop then cancels).
    const toStop: UnitView[] = [];
    for (const view of views) {
      if (!isGlobalUnit(view.unit.options)) {
        if (view.currentState === "inactive") {
          warn(ctx, `Unable to stop unit ${view.unit.name} in state inactive`);
          return 1;
        }
        if (view.currentState === "loaded" && view.unit.desiredState !== "launched") continue;
      }
      toStop.push(view);
    }
    const stopping: string[] = [];
    for (const view of toStop) {
      await ctx.api.setUnitTargetState(view.unit.name, "loaded");
      if (isGlobalUnit(view.unit.options)) say(ctx, `Triggered global unit ${view.unit.name} stop`);
      else stopping.push(view.unit.name);
    }
    const error = await tryWaitForUnitStates(ctx, stopping, "stop", "loaded", blockAttempts(flags));
    if (error !== undefined) {
      warn(ctx, `Failed to stop units ${goList(stopping)}. err: ${error}`);
      return 1;
    }
    warn(ctx, `Successfully stopped units ${goList(stopping)}.`);
    return 0;
  },
};

export const unloadCommand: Command = {
  name: "unload",
  summary: "Unschedule one or more units in the cluster.",
  usage: "UNIT...",
  description: "",
  flags: blockFlags("unload"),
  async run(ctx, flags, args) {
    if (noUnits(ctx, args)) return 0;
    const views = await findUnits(ctx, args);
    if (!views) return 1;
    const waiting: string[] = [];
    for (const view of views) {
      const global = isGlobalUnit(view.unit.options);
      if (!global && view.currentState === "inactive" && view.unit.desiredState === "inactive") continue;
      await ctx.api.setUnitTargetState(view.unit.name, "inactive");
      if (global) say(ctx, `Triggered global unit ${view.unit.name} unload`);
      else waiting.push(view.unit.name);
    }
    const error = await tryWaitForUnitStates(ctx, waiting, "unload", "inactive", blockAttempts(flags));
    if (error !== undefined) {
      warn(ctx, `Failed to unload units ${goList(waiting)}. err: ${error}`);
      return 1;
    }
    warn(ctx, `Successfully unloaded units ${goList(waiting)}.`);
    return 0;
  },
};

export const destroyCommand: Command = {
  name: "destroy",
  summary: "Destroy one or more units in the cluster",
  usage: "UNIT...",
  description: `Completely remove one or more running or submitted units from the cluster.

Instructs systemd on the host machine to destroy the unit, deferring to systemd
completely for any custom stop directives (i.e. ExecStop option in the unit
file).

Destroyed units are impossible to start unless re-submitted.`,
  flags: blockFlags("destroy"),
  async run(ctx, _flags, args) {
    if (noUnits(ctx, args)) return 0;
    const views = await findUnits(ctx, args);
    if (!views) return 1;
    let exit = 0;
    const destroyed: string[] = [];
    for (const view of views) {
      try {
        // A unit that is already gone is as good as destroyed.
        await ctx.api.destroyUnit(view.unit.name);
        destroyed.push(view.unit.name);
      } catch (err) {
        warn(ctx, failureLine("Error destroying units", err));
        exit = 1;
      }
    }
    for (const name of destroyed) say(ctx, `Destroyed ${name}`);
    return exit;
  },
};

// submit, load, start, stop, unload, destroy and cat: fleet's flows, messages and exit codes.
import { isGlobalUnit, serializeUnitFile, type TargetState, type Unit } from "@fleet/domain";
import type { FlagValues } from "./argv.js";
import { blockAttempts, blockFlags, replaceFlag, SIGN_FLAG, type Command } from "./command.js";
import { errorMessage, failureLine, say, warn, type CommandContext } from "./context.js";
import { lazyCreateUnits } from "./create-units.js";
import type { UnitView } from "./fleet-api.js";
import { waitForSystemdActive } from "./systemd-active.js";
import { unitNameOfArg } from "./unit-args.js";
import { waitForUnitStates } from "./wait.js";

/**
 * fleet's tryWaitForUnitStates: with --no-block, "Triggered unit x start" for each unit;
 * otherwise wait and print "Unit x launched on ...". When a unit does not get there in time,
 * fleet's "Error waiting for units: <error>" for the first one; returns that error.
 */
export async function tryWaitForUnitStates(
  ctx: CommandContext,
  names: readonly string[],
  verb: string,
  target: TargetState,
  attempts: number,
): Promise<string | undefined> {
  if (attempts < 0) {
    for (const name of names) say(ctx, `Triggered unit ${name} ${verb}`);
    return undefined;
  }
  const [error] = await waitForUnitStates(ctx, names, target, attempts);
  if (error !== undefined) warn(ctx, `Error waiting for units: ${error}`);
  return error;
}

/** A list of names as fleet printed them (Go's %v of a []string): "[a.service b.service]", "[]". */
export function goList(names: readonly string[]): string {
  return `[${names.join(" ")}]`;
}

/**
 * fleet's setTargetStateOfUnits: the units whose desired state this changed. The units are
 * read together, then changed together. `created` were just created at `state` already.
 */
async function setTargetStateOfUnits(ctx: CommandContext, names: readonly string[], state: TargetState, created: readonly Unit[]): Promise<UnitView[]> {
  const fresh = new Map(created.map((u) => [u.name, u]));
  const views = await Promise.all(
    names.map(async (name): Promise<UnitView> => {
      const unit = fresh.get(name);
      if (unit) return { unit, machineId: "", currentState: "inactive", reason: "" };
      let view: UnitView | undefined;
      try {
        view = await ctx.api.getUnit(name);
      } catch (err) {
        throw new Error(`error retrieving unit ${name} from registry: ${errorMessage(err)}`);
      }
      if (!view) throw new Error(`unable to find unit ${name}`);
      return view;
    }),
  );
  const changes = views.filter((v) => !fresh.has(v.unit.name) && v.unit.desiredState !== state);
  await Promise.all(changes.map((v) => ctx.api.setUnitTargetState(v.unit.name, state)));
  return views.filter((v) => fresh.has(v.unit.name) || v.unit.desiredState !== state);
}

/**
 * The units named by the arguments, all of them or none: an unknown unit is reported as
 * "Unit x not found" and the command changes nothing.
 */
export async function findUnits(ctx: CommandContext, args: readonly string[]): Promise<UnitView[] | undefined> {
  const names = [...new Set(args.map(unitNameOfArg))];
  const views = await Promise.all(names.map((name) => ctx.api.getUnit(name)));
  const missing = names.filter((_, i) => views[i] === undefined);
  for (const name of missing) warn(ctx, `Unit ${name} not found`);
  if (missing.length > 0) return undefined;
  return views.filter((v): v is UnitView => v !== undefined);
}

function noUnits(ctx: CommandContext, args: readonly string[]): boolean {
  if (args.length > 0) return false;
  warn(ctx, "No units given");
  return true;
}

/** load and start: create what is missing, set the desired state, wait. */
function changeState(verb: "load" | "start", target: TargetState, errorPrefix: string) {
  return async (ctx: CommandContext, flags: FlagValues, args: readonly string[]): Promise<number> => {
    if (noUnits(ctx, args)) return 0;
    const attempts = blockAttempts(flags);
    let created: Unit[];
    try {
      created = await lazyCreateUnits(ctx, args, target, { command: verb, replace: flags.get("replace") === true });
    } catch (err) {
      warn(ctx, failureLine("Error creating units", err));
      return 1;
    }
    let triggered: UnitView[];
    try {
      triggered = await setTargetStateOfUnits(ctx, [...new Set(args.map(unitNameOfArg))], target, created);
    } catch (err) {
      warn(ctx, failureLine(errorPrefix, err));
      return 1;
    }
    const waiting: string[] = [];
    for (const view of triggered) {
      if (isGlobalUnit(view.unit.options)) say(ctx, `Triggered global unit ${view.unit.name} ${verb}`);
      else waiting.push(view.unit.name);
    }
    const error = await tryWaitForUnitStates(ctx, waiting, verb, target, attempts);
    if (error !== undefined) {
      warn(ctx, `Error waiting for unit states, exit status: ${error}`);
      return 1;
    }
    // fleet's start then checks that systemd runs the units (ExecStart=/bin/false fails here).
    if (verb === "start" && attempts >= 0) {
      const inactive = await waitForSystemdActive(ctx, waiting);
      if (inactive !== undefined) {
        warn(ctx, `Error waiting for units: ${inactive}`);
        warn(ctx, `Error waiting for systemd unit states, err: ${inactive}`);
        return 1;
      }
    }
    return 0;
  };
}

export const submitCommand: Command = {
  name: "submit",
  summary: "Upload one or more units to the cluster without starting them",
  usage: "UNIT...",
  description: `Upload one or more units to the cluster without starting them. Useful
for validating units before they are started.

This operation is idempotent; if a named unit already exists in the cluster, it will not be resubmitted.

Submit a single unit:
fleetctl submit foo.service

Submit a directory of units with glob matching:
fleetctl submit myservice/*`,
  flags: [SIGN_FLAG, replaceFlag("submit")],
  async run(ctx, flags, args) {
    if (noUnits(ctx, args)) return 0;
    try {
      await lazyCreateUnits(ctx, args, "inactive", { command: "submit", replace: flags.get("replace") === true });
    } catch (err) {
      warn(ctx, failureLine("Error creating units", err));
      return 1;
    }
    return 0;
  },
};

export const loadCommand: Command = {
  name: "load",
  summary: "Schedule one or more units in the cluster, first submitting them if necessary.",
  usage: "[--no-block|--block-attempts=N] UNIT...",
  description: `Load one or many units in the cluster into systemd, but do not start.

Select units to load by glob matching for units in the current working directory
or matching the names of previously submitted units.

For units which are not global, load operations are performed synchronously,
which means fleetctl will block until it detects that the unit(s) have
transitioned to a loaded state. This behaviour can be configured with the
respective --block-attempts and --no-block options. Load operations on global
units are always non-blocking.`,
  flags: [...blockFlags("load"), SIGN_FLAG, replaceFlag("load")],
  run: changeState("load", "loaded", "Error loading units"),
};

export const startCommand: Command = {
  name: "start",
  summary: "Instruct systemd to start one or more units in the cluster, first submitting and loading if necessary.",
  usage: "[--no-block|--block-attempts=N] UNIT...",
  description: `Start one or many units on the cluster. Select units to start by glob matching
for units in the current working directory or matching names of previously
submitted units.

For units which are not global, start operations are performed synchronously,
which means fleetctl will block until it detects that the unit(s) have
transitioned to a started state. This behaviour can be configured with the
respective --block-attempts and --no-block options. Start operations on global
units are always non-blocking.

Start a single unit:
fleetctl start foo.service

Start an entire directory of units with glob matching:
fleetctl start myservice/*

You may filter suitable hosts based on metadata provided by the machine.
Machine metadata is located in the fleet configuration file.`,
  flags: [...blockFlags("start"), SIGN_FLAG, replaceFlag("start")],
  run: changeState("start", "launched", "Error starting units"),
};

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

export const catCommand: Command = {
  name: "cat",
  summary: "Output the contents of a submitted unit",
  usage: "UNIT",
  description: `Outputs the unit file that is currently loaded in the cluster. Useful to verify
the correct version of a unit is running.`,
  flags: [],
  async run(ctx, _flags, args) {
    if (args.length !== 1) {
      warn(ctx, "One unit file must be provided");
      return 1;
    }
    const name = unitNameOfArg(args[0] ?? "");
    let view: UnitView | undefined;
    try {
      view = await ctx.api.getUnit(name);
    } catch (err) {
      warn(ctx, `Error retrieving Unit ${name}: ${errorMessage(err)}`);
      return 1;
    }
    if (!view) {
      warn(ctx, `Unit ${name} not found`);
      return 1;
    }
    // Exactly the unit's contents: no newline added.
    ctx.output.stdout(serializeUnitFile(view.unit.options));
    return 0;
  },
};

// submit, load and start: create what is missing, set the desired state, wait; fleet's flows,
// messages and exit codes.
import { isGlobalUnit, type TargetState, type Unit } from "@fleet/domain";
import type { UnitView } from "../api/fleet-api.js";
import type { FlagValues } from "./argv.js";
import { lazyCreateUnits } from "../units/create-units.js";
import { waitForSystemdActive } from "../units/systemd-active.js";
import { unitNameOfArg } from "../units/unit-args.js";
import { blockAttempts, blockFlags, replaceFlag, SIGN_FLAG, type Command } from "./command.js";
import { errorMessage, failureLine, say, warn, type CommandContext } from "../context/context.js";
import { noUnits, tryWaitForUnitStates } from "./unit-steps.js";

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


// status and journal: systemctl status / journalctl of a unit on its machine. Through the api
// (streamed from that machine's agent, no ssh) when the endpoint offers it; otherwise over ssh
// to the machine, as fleet's fleetctl did.
import { isGlobalUnit, isUnresponsiveMachineReason } from "@fleet/domain";
import { boolFlag, numberFlag, stringFlag } from "./argv.js";
import { OUTPUT_FLAG, type Command } from "./command.js";
import { outputFormat, renderJson, unitStatusJson, type UnitStatusJson } from "../output/json-output.js";
import { errorMessage, warn, type CommandContext } from "../context/context.js";
import type { UnitView } from "../api/fleet-api.js";
import { shellQuote } from "../ssh/ssh.js";
import { runOnMachine, SSH_PORT_FLAG } from "./ssh-commands.js";
import { unitNameOfArg } from "../units/unit-args.js";

/**
 * The unit if it is on a machine, "global" for a global unit (no single machine); otherwise
 * fleet's message on stderr and undefined. fleet's status and journal word them differently.
 */
async function placedUnit(ctx: CommandContext, name: string, what: "status" | "journal"): Promise<UnitView | "global" | undefined> {
  let view: UnitView | undefined;
  try {
    view = await ctx.api.getUnit(name);
  } catch (err) {
    warn(ctx, what === "status" ? `Error retrieving unit: ${errorMessage(err)}` : `Error retrieving unit ${name}: ${errorMessage(err)}`);
    return undefined;
  }
  if (!view) {
    warn(ctx, `Unit ${name} does not exist.`);
    return undefined;
  }
  if (isGlobalUnit(view.unit.options)) return "global";
  if (view.currentState === "inactive" || view.machineId === "") {
    warn(ctx, `Unit ${name} does not appear to be ${what === "status" ? "loaded" : "running"}.`);
    // fleet said nothing more; say why the scheduler could not place it, or why it stays on a
    // machine that does not respond.
    if (view.machineId === "" && view.reason !== "") warn(ctx, `Not scheduled: ${view.reason}`);
    else if (isUnresponsiveMachineReason(view.reason, view.machineId)) warn(ctx, `Held: ${view.reason}`);
    return undefined;
  }
  return view;
}

async function printUnitStatus(ctx: CommandContext, view: UnitView, sshPort: number): Promise<number> {
  const name = view.unit.name;
  if (!ctx.api.unitStatus) return runOnMachine(ctx, view.machineId, shellQuote(["systemctl", "status", "-l", name]), sshPort);
  try {
    const status = await ctx.api.unitStatus(name);
    ctx.output.stdout(status.text);
    return status.exitCode;
  } catch (err) {
    warn(ctx, `Error retrieving status of unit ${name}: ${errorMessage(err)}`);
    return 1;
  }
}

export const statusCommand: Command = {
  name: "status",
  summary: "Output the status of one or more units in the cluster",
  usage: "[--ssh-port=N] UNIT...",
  description: `Output the status of one or more units currently running in the cluster.
Supports glob matching of units in the current working directory or matches
previously started units.

Show status of a single unit:
	fleetctl status foo.service

Show status of an entire directory with glob matching:
fleetctl status myservice/*

This command does not work with global units.`,
  flags: [SSH_PORT_FLAG, OUTPUT_FLAG],
  async run(ctx, flags, args) {
    const format = outputFormat(stringFlag(flags, "output"));
    if (typeof format !== "string") {
      warn(ctx, format.error);
      return 1;
    }
    if (format === "json") return statusJson(ctx, args);
    let exit = 0;
    for (const [i, arg] of args.entries()) {
      const unit = await placedUnit(ctx, unitNameOfArg(arg), "status");
      // As fleet 1.0: a global unit has no single machine to ask, and is passed over in silence.
      if (unit === "global") continue;
      if (!unit) return 1;
      // A blank line before each unit but the first argument, as systemctl status separates them.
      if (i > 0) ctx.output.stdout("\n");
      exit = await printUnitStatus(ctx, unit, numberFlag(flags, "ssh-port"));
      if (exit !== 0) break;
    }
    return exit;
  },
};

/** status -o json: one document for every unit asked for, systemctl's text and exit code included. */
async function statusJson(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const unitStatus = ctx.api.unitStatus;
  if (!unitStatus) {
    warn(ctx, "status --output json needs an endpoint that serves unit status (not ssh)");
    return 1;
  }
  const units: UnitStatusJson[] = [];
  for (const arg of args) {
    const unit = await placedUnit(ctx, unitNameOfArg(arg), "status");
    if (unit === "global") continue;
    if (!unit) return 1;
    try {
      units.push(unitStatusJson(unit, await unitStatus.call(ctx.api, unit.unit.name)));
    } catch (err) {
      warn(ctx, `Error retrieving status of unit ${unit.unit.name}: ${errorMessage(err)}`);
      return 1;
    }
  }
  ctx.output.stdout(renderJson({ units }));
  return units.every((u) => u.statusExitCode === 0) ? 0 : 1;
}

async function streamJournal(ctx: CommandContext, name: string, lines: number, follow: boolean, output: string): Promise<number> {
  const journal = ctx.api.journal;
  if (!journal) return 1;
  const stream = journal.call(ctx.api, name, { lines, follow, output }, (text) => ctx.output.stdout(text));
  // Ctrl-C ends a followed journal; that is how it is meant to end, so the exit code is 0.
  const stopListening = ctx.processes.onInterrupt(() => stream.cancel());
  try {
    await stream.done;
    return 0;
  } catch (err) {
    warn(ctx, `Error reading journal of unit ${name}: ${errorMessage(err)}`);
    return 1;
  } finally {
    stopListening();
  }
}

export const journalCommand: Command = {
  name: "journal",
  summary: "Print the journal of a unit in the cluster to stdout",
  usage: "[--lines=N] [--ssh-port=N] [-f|--follow] [--output=STRING] <unit>",
  description: `Outputs the journal of a unit by connecting to the machine that the unit occupies.

Read the last 10 lines:
fleetctl journal foo.service

Read the last 100 lines:
fleetctl journal --lines 100 foo.service

This command does not work with global units.`,
  flags: [
    { name: "lines", kind: "int", default: 10, usage: "Number of recent log lines to return" },
    { name: "follow", kind: "bool", default: false, short: "f", usage: "Continuously print new entries as they are appended to the journal." },
    { ...SSH_PORT_FLAG, usage: "Connect to remote hosts over SSH using this TCP port" },
    { name: "sudo", kind: "bool", default: false, usage: "Execute journal command with sudo" },
    {
      name: "output",
      kind: "string",
      default: "short",
      usage: "Output mode. This will be passed unaltered to journalctl on the remote host, and hence supports the same modes as that command.",
    },
  ],
  async run(ctx, flags, args) {
    const arg = args[0];
    if (args.length !== 1 || arg === undefined) {
      warn(ctx, "One unit file must be provided.");
      return 1;
    }
    const name = unitNameOfArg(arg);
    const lines = numberFlag(flags, "lines");
    if (lines < 0) {
      warn(ctx, `invalid --lines ${lines}: must not be negative`);
      return 1;
    }
    const follow = boolFlag(flags, "follow");
    const output = stringFlag(flags, "output");
    const view = await placedUnit(ctx, name, "journal");
    if (view === "global") {
      warn(ctx, `Unable to retrieve journal of global unit ${name}.`);
      return 1;
    }
    if (!view) return 1;
    if (ctx.api.journal) return streamJournal(ctx, name, lines, follow, output);
    const command = ["journalctl", "--unit", name, "--no-pager", "-n", String(lines), "--output", output];
    if (boolFlag(flags, "sudo")) command.unshift("sudo");
    if (follow) command.push("-f");
    return runOnMachine(ctx, view.machineId, shellQuote(command), numberFlag(flags, "ssh-port"));
  },
};

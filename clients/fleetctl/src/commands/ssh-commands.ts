// ssh and fd-forward, and running a command on a unit's machine over ssh (status and journal
// when the endpoint cannot stream them, as fleet's fleetctl always did).
import { isGlobalUnit } from "@fleet/domain";
import { boolFlag, numberFlag, stringFlag, type FlagSpec } from "./argv.js";
import type { Command } from "./command.js";
import { errorMessage, warn, type CommandContext } from "../context/context.js";
import { beforeSession, failureError, failureHint, failureNotice, readSshLog } from "../ssh/ssh-log.js";
import type { SshTarget } from "../ssh/ssh.js";
import { unitNameOfArg } from "../units/unit-args.js";

export const SSH_PORT_FLAG: FlagSpec = { name: "ssh-port", kind: "int", default: 22, usage: "Connect to remote hosts over SSH using this TCP port." };

/**
 * Runs ssh and tells its own failures as fleet's fleetctl did: `fleetctl ssh` says "Failed
 * building SSH client: ..." (exit 1) when it could not connect, "Failed running command over
 * SSH: ..." (exit 255) when the connection broke; status and journal say "Unable to SSH to
 * remote host: ..." (exit 255). Otherwise the remote command's exit code.
 */
async function runSsh(ctx: CommandContext, target: SshTarget, caller: "ssh" | "remote-command"): Promise<number> {
  const run = await ctx.processes.ssh(ctx.ssh, target);
  const read = readSshLog(run.log, run.code);
  for (const line of read.passOn) warn(ctx, line);
  const failure = read.failure;
  if (!failure) return run.code;
  ctx.output.stderr(failureNotice(failure));
  const building = beforeSession(failure);
  if (caller === "remote-command") warn(ctx, `Unable to SSH to remote host: ${failureError(failure)}`);
  else warn(ctx, `${building ? "Failed building SSH client" : "Failed running command over SSH"}: ${failureError(failure)}`);
  ctx.output.stderr(failureHint(failure));
  return caller === "ssh" && building ? 1 : 255;
}

/** This machine's id (/etc/machine-id), if fleetctl runs on a machine. */
async function localMachineId(ctx: CommandContext): Promise<string | undefined> {
  try {
    return (await ctx.files.readFile("/etc/machine-id"))?.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command line on the machine: here when it is this machine (fleet's
 * IsLocalMachineID), else over ssh; its exit code, or 1 when the machine has no address. */
export async function runOnMachine(ctx: CommandContext, machineId: string, command: string, port: number): Promise<number> {
  if (machineId !== "" && (await localMachineId(ctx)) === machineId) return ctx.processes.run(["/bin/sh", "-c", command]);
  const machine = await ctx.machines.lookup(machineId);
  if (!machine?.publicIp) {
    warn(ctx, `Error getting machine IP: machine ${machineId} is not known`);
    return 1;
  }
  return runSsh(ctx, { host: machine.publicIp, port, forwardAgent: false, tty: false, command }, "remote-command");
}

type Lookup = { ok: true; address: string } | { ok: false; error: string };

async function machineAddress(ctx: CommandContext, prefix: string): Promise<Lookup> {
  const matches = (await ctx.api.listMachines()).filter((m) => m.id.startsWith(prefix));
  if (matches.length > 1) return { ok: false, error: "found more than one machine" };
  const match = matches[0];
  return match ? { ok: true, address: match.publicIp } : { ok: false, error: "machine does not exist" };
}

async function unitAddress(ctx: CommandContext, arg: string): Promise<Lookup> {
  const view = await ctx.api.getUnit(unitNameOfArg(arg));
  if (!view) return { ok: false, error: "unit does not exist" };
  if (isGlobalUnit(view.unit.options)) return { ok: false, error: "global units unsupported" };
  const machine = view.machineId ? await ctx.machines.lookup(view.machineId) : undefined;
  return machine?.publicIp ? { ok: true, address: machine.publicIp } : { ok: false, error: "unit is not running on any machine" };
}

/** fleet's globalMachineLookup: the argument names a machine (id prefix) or a unit, not both. */
async function lookupEither(ctx: CommandContext, arg: string | undefined): Promise<Lookup> {
  if (arg === undefined) return { ok: false, error: "one machine or unit must be provided" };
  const [machine, unit] = await Promise.all([machineAddress(ctx, arg), unitAddress(ctx, arg)]);
  if (machine.ok && unit.ok) {
    return { ok: false, error: `ambiguous argument, both machine and unit found for \`${arg}\`.\nPlease use flag \`-m\` or \`-u\` to refine the search` };
  }
  if (machine.ok) return machine;
  if (unit.ok) return unit;
  return { ok: false, error: "could not find matching unit or machine" };
}

export const sshCommand: Command = {
  name: "ssh",
  summary: "Open interactive shell on a machine in the cluster",
  usage: "[-A|--forward-agent] [--ssh-port=N] [--machine|--unit] {MACHINE|UNIT}",
  description: `Open an interactive shell on a specific machine in the cluster or on the machine
where the specified unit is located.

fleetctl tries to detect whether your first argument is a machine or a unit.
To skip this check use the --machine or --unit flags.

Open a shell on a machine:
fleetctl ssh 2444264c-eac2-4eff-a490-32d5e5e4af24

Open a shell from your laptop, to the machine running a specific unit, using a
cluster member as a bastion host:
fleetctl --tunnel 10.10.10.10 ssh foo.service

Open a shell on a machine and forward the authentication agent connection:
fleetctl ssh --forward-agent 2444264c-eac2-4eff-a490-32d5e5e4af24


Tip: Create an alias for --tunnel.
- Add "alias fleetctl=fleetctl --tunnel 10.10.10.10" to your bash profile.
- Now you can run all fleet commands locally.

This command does not work with global units.`,
  flags: [
    { name: "machine", kind: "string", default: "", usage: "Open SSH connection to a specific machine." },
    { name: "unit", kind: "string", default: "", usage: "Open SSH connection to machine running provided unit." },
    { name: "forward-agent", kind: "bool", default: false, short: "A", usage: "Forward local ssh-agent to target machine." },
    SSH_PORT_FLAG,
  ],
  async run(ctx, flags, args) {
    const machine = stringFlag(flags, "machine");
    const unit = stringFlag(flags, "unit");
    if (machine !== "" && unit !== "") {
      warn(ctx, "Both machine and unit flags provided, please specify only one.");
      return 1;
    }
    let rest = args;
    let found: Lookup;
    try {
      if (machine !== "") found = await machineAddress(ctx, machine);
      else if (unit !== "") found = await unitAddress(ctx, unit);
      else {
        found = await lookupEither(ctx, args[0]);
        rest = args.slice(1);
      }
    } catch (err) {
      found = { ok: false, error: errorMessage(err) };
    }
    if (!found.ok) {
      warn(ctx, `Unable to proceed: ${found.error}`);
      return 1;
    }
    if (found.address === "") {
      warn(ctx, "Could not determine address of machine.");
      return 1;
    }
    const command = rest.join(" ");
    const port = numberFlag(flags, "ssh-port");
    return runSsh(ctx, { host: found.address, port, forwardAgent: boolFlag(flags, "forward-agent"), tty: command === "", command }, "ssh");
  },
};

export const fdForwardCommand: Command = {
  name: "fd-forward",
  summary: "Proxy stdin and stdout to a unix domain socket",
  usage: "SOCKET",
  description: "fleetctl utilizes fd-forward when --tunnel is used and --endpoint is a unix socket. This command is not intended to be called by users directly.",
  flags: [],
  needsApi: false,
  async run(ctx, _flags, args) {
    const socket = args[0];
    if (args.length !== 1 || socket === undefined) {
      warn(ctx, "Provide a single argument");
      return 1;
    }
    try {
      await ctx.processes.forward(socket);
      return 0;
    } catch (err) {
      warn(ctx, `Failed dialing remote address: ${errorMessage(err)}`);
      return 1;
    }
  },
};

// A fleetctl run against the in-memory FleetApi, for the command tests: exact stdout, stderr and
// exit code, the API calls, and the programs (ssh) fleetctl would have run.
import { parseUnitFile, unitHash, type Machine, type Unit } from "@fleet/domain";
import { runFleetctl } from "./cli.js";
import type { ConnectOptions, FleetctlDeps } from "./deps.js";
import type { Output } from "../context/context.js";
import type { Endpoint } from "../endpoint/endpoint.js";
import { FakeFleetApi, type FakeFleetApiOptions } from "../api/fake-fleet-api.js";
import type { UnitView } from "../api/fleet-api.js";
import { sshArgv } from "../ssh/ssh.js";

export const m1: Machine = { id: "113f16a7b9c34d5e8f0a1b2c3d4e5f60", publicIp: "10.0.0.3", metadata: { region: "us-west" } };
export const m2: Machine = { id: "9a8b7c6d5e4f30211203405060708090", publicIp: "10.0.0.4", metadata: {} };

export const HELLO = "[Unit]\nDescription=Hello World\n\n[Service]\nExecStart=/bin/sleep 100\n";
export const GLOBAL = "[Service]\nExecStart=/bin/agent\n\n[X-Fleet]\nGlobal=true\n";
export const TEMPLATE = "[Service]\nExecStart=/bin/echo %i\n";

export function unitOf(name: string, text: string, desiredState: Unit["desiredState"]): Unit {
  const options = parseUnitFile(text);
  return { name, options, hash: unitHash(options), desiredState };
}

export function existing(name: string, text: string, over: Partial<UnitView> & { desired?: Unit["desiredState"] } = {}): UnitView {
  const { desired, ...rest } = over;
  return { unit: unitOf(name, text, desired ?? "inactive"), machineId: "", currentState: "inactive", reason: "", ...rest };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The run with the date and time of fleet's log lines ("2016/02/01 15:04:05 INFO ...") as "<time>". */
export function withoutLogTimes(run: Run): Run {
  return { ...run, stderr: run.stderr.replace(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} /gm, "<time> ") };
}

/** exitCodes: of each program run, in turn (0 after them); sshLogs: what each ssh said of its
 * own (its -E log), in turn; output: where fleetctl writes instead of the run's strings. */
export function setup(
  options: FakeFleetApiOptions & { files?: Record<string, string>; env?: Record<string, string>; exitCodes?: number[]; sshLogs?: string[]; sockets?: string[]; output?: Output } = {},
) {
  const api = new FakeFleetApi({ machines: [m1, m2], ...options });
  const files = options.files ?? {};
  const connections: { endpoint: Endpoint; timeoutMs: number; options: ConnectOptions }[] = [];
  /** Every program fleetctl ran (ssh), the sockets it forwarded, the tunnels it opened. */
  const ran: string[][] = [];
  const forwarded: string[] = [];
  const tunnels: { tunnel: string; target: string; closed: boolean }[] = [];
  const interrupts: (() => void)[] = [];
  const exitCodes = [...(options.exitCodes ?? [])];
  const sshLogs = [...(options.sshLogs ?? [])];
  let now = 0;
  const run = async (...argv: string[]): Promise<Run> => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const deps: FleetctlDeps = {
      output: options.output ?? { stdout: (t) => void stdout.push(t), stderr: (t) => void stderr.push(t) },
      files: { readFile: async (path) => files[path] },
      clock: { now: () => now, sleep: async (ms) => void (now += ms) },
      processes: {
        run: async (argv) => {
          ran.push([...argv]);
          return exitCodes.shift() ?? 0;
        },
        ssh: async (settings, target) => {
          ran.push(sshArgv(settings, target));
          return { code: exitCodes.shift() ?? 0, log: sshLogs.shift() ?? "" };
        },
        forward: async (socket) => void forwarded.push(socket),
        onInterrupt: (handler) => {
          interrupts.push(handler);
          return () => void interrupts.splice(interrupts.indexOf(handler), 1);
        },
      },
      connect: (endpoint, connectOptions) => {
        connections.push({ endpoint, timeoutMs: connectOptions.requestTimeoutMs, options: connectOptions });
        return api;
      },
      openTunnel: async (ssh, target) => {
        const t = { tunnel: ssh.tunnel, target, closed: false };
        tunnels.push(t);
        return { port: 4000, close: () => void (t.closed = true) };
      },
      socketExists: (path) => (options.sockets ?? []).includes(path),
    };
    const code = await runFleetctl(argv, options.env ?? {}, deps);
    return { code, stdout: stdout.join(""), stderr: stderr.join("") };
  };
  /** Presses Ctrl-C. */
  const interrupt = () => [...interrupts].forEach((h) => h());
  /** The fake clock (ms): how long the runs so far waited. */
  const elapsed = () => now;
  return { api, run, connections, ran, forwarded, tunnels, interrupt, elapsed };
}


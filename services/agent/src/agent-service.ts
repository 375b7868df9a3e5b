// AgentService: the api asks a machine's agent for `systemctl status` and the journal of a unit,
// so users need no SSH. Runs the machine's own systemctl and journalctl, only about units fleet
// placed on this machine (their unit files are in units_dir), and under mutual TLS only for the
// api's identity: not the journal of sshd, dbus or the agent itself, nor for anyone who reaches
// the port.
import { spawn } from "node:child_process";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { assertValidUnitName } from "@fleet/domain";
import { certificateCommonName, failStream, FleetError, unaryHandler, type AgentServiceServer, type AuthContext, type Logger } from "@fleet/wire";
import { journalArgs, statusArgs } from "./journal-args.js";

export interface AgentServiceOptions {
  /** Where fleet's unit files are: a unit is fleet's on this machine when its file is there. */
  readonly unitsDir: string;
  /** Certificate common names allowed to call (agent_api_identities); checked when the caller presents one (mutual TLS). */
  readonly apiIdentities: ReadonlySet<string>;
  /** Whether the agent serves mutual TLS (a CA): then callers must present an allowed identity. */
  readonly mutualTls: boolean;
}

/** Refuses a caller that is not the api, and a unit fleet did not place here. */
async function assertMayAnswer(options: AgentServiceOptions, auth: AuthContext | null, unitName: string): Promise<void> {
  if (options.mutualTls) {
    const name = certificateCommonName(auth?.sslPeerCertificate?.subject);
    if (!name || !options.apiIdentities.has(name)) {
      throw new FleetError("permission-denied", `AgentService answers only the api (${[...options.apiIdentities].join(", ")}), not ${name ? JSON.stringify(name) : "a caller without a certificate"}`);
    }
  }
  try {
    assertValidUnitName(unitName);
  } catch (err) {
    throw new FleetError("invalid-argument", (err as Error).message);
  }
  try {
    await access(join(options.unitsDir, unitName));
  } catch {
    throw new FleetError("permission-denied", `unit ${unitName} is not one fleet placed on this machine`);
  }
}

function validated<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new FleetError("invalid-argument", (err as Error).message);
  }
}

export function agentService(log: Logger, options: AgentServiceOptions): AgentServiceServer {
  return {
    unitStatus: unaryHandler(log, "UnitStatus", async (req, ctx) => {
      await assertMayAnswer(options, ctx.authContext(), req.unitName);
      const [cmd = "", ...args] = validated(() => statusArgs(req.unitName));
      return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        let text = "";
        child.stdout.on("data", (d: Buffer) => (text += d.toString()));
        child.stderr.on("data", (d: Buffer) => (text += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ text, exitCode: code ?? 1 }));
      });
    }),
    journal: (call) => {
      assertMayAnswer(options, call.getAuthContext(), call.request.unitName).then(
        () => journal(call),
        (err: unknown) => failStream(call, err),
      );
    },
  };

  function journal(call: Parameters<AgentServiceServer["journal"]>[0]): void {
    let argv: string[];
    try {
      argv = journalArgs({ unit: call.request.unitName, lines: call.request.lines, follow: call.request.follow, output: call.request.output });
    } catch (err) {
      failStream(call, new FleetError("invalid-argument", (err as Error).message));
      return;
    }
    const [cmd = "", ...args] = argv;
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    log.debug({ unit: call.request.unitName, follow: call.request.follow }, "journal requested");
    child.stdout.on("data", (d: Buffer) => {
      // Back-pressure: pause journalctl while the client is slow.
      if (!call.write({ data: d.toString() })) {
        child.stdout.pause();
        call.once("drain", () => child.stdout.resume());
      }
    });
    child.stderr.on("data", (d: Buffer) => log.warn({ unit: call.request.unitName, stderr: d.toString() }, "journalctl said"));
    child.on("close", () => call.end());
    call.on("cancelled", () => child.kill("SIGTERM"));
    call.on("close", () => child.kill("SIGTERM"));
  }
}

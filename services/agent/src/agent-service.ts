// AgentService: the api asks a machine's agent for `systemctl status` and the journal of a unit,
// so users need no SSH. Runs the machine's own systemctl and journalctl.
import { spawn } from "node:child_process";
import { failStream, FleetError, unaryHandler, type AgentServiceServer, type Logger } from "@fleet/wire";
import { journalArgs, statusArgs } from "./journal-args.js";

function validated<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new FleetError("invalid-argument", (err as Error).message);
  }
}

export function agentService(log: Logger): AgentServiceServer {
  return {
    unitStatus: unaryHandler(log, "UnitStatus", async (req) => {
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
    },
  };
}

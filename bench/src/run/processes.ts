// Child processes the bench times: fleetctl as a user runs it, and plain node.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./config.js";

export interface ProcessResult {
  code: number;
  out: string;
  err: string;
}

/** The launcher `npx fleetctl` runs (bin/fleetctl), else the bundle through node. */
export function fleetctlMain(): string | undefined {
  for (const p of ["clients/fleetctl/bin/fleetctl", "clients/fleetctl/bin/fleetctl.cjs", "clients/fleetctl/dist/main.js"]) if (existsSync(join(ROOT, p))) return join(ROOT, p);
  return undefined;
}

/** Runs fleetctl as a user's shell would: the launcher directly, a .js/.cjs file through node. */
export function runFleetctl(main: string, args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return /\.c?js$/.test(main) ? runProcess(process.execPath, [main, ...args], env, 30_000) : runProcess(main, args, env, 30_000);
}

export function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.once("error", (e) => resolve({ code: -1, out, err: err + String(e) }));
    child.once("close", (code, sig) => resolve({ code: code ?? (sig ? 137 : 1), out, err }));
  });
}

/** The fallback for figure 1b when fleetctl does not work: fallback-client.js, a fresh node
 * process creating the unit through @fleet/wire and waiting until it is launched. */
export const FALLBACK_CLIENT = join(ROOT, "bench", "dist", "run", "fallback-client.js");

// Runs the real fleetctl binary against a cluster, as a user would.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The launcher `npx fleetctl` runs. */
const main = fileURLToPath(new URL("../../clients/fleetctl/bin/fleetctl", import.meta.url));

export interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export function fleetctl(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(main, args, { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

/** list-units rows as {unit, machine, active, sub}, machine ids in full. */
export async function listUnits(env: Record<string, string>): Promise<Array<{ unit: string; machine: string; active: string; sub: string }>> {
  const r = await fleetctl(env, "list-units", "--no-legend", "--full", "--fields=unit,machine,active,sub");
  if (r.code !== 0) throw new Error(`list-units failed: ${r.stderr}`);
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [unit = "", machine = "", active = "", sub = ""] = l.trim().split(/\s+/);
      return { unit, machine: machine.split("/")[0] ?? "", active, sub };
    });
}

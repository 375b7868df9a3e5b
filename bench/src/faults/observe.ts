// What the fault bench looks at: systemd in every machine, and fleetctl as a user runs it.
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClusterHandle } from "@fleet/launcher";

/** The repository root (this file is bench/{src,dist}/faults/observe.*). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const FLEETCTL = join(ROOT, "clients/fleetctl/bin/fleetctl");
export const TTL_S = 5;
export const UNITS = Number(process.env.BENCH_FAULT_UNITS ?? 60);

const t0 = Date.now();
export const elapsedMs = (): number => Date.now() - t0;
export const log = (m: string): void => {
  process.stderr.write(`[faults +${(elapsedMs() / 1000).toFixed(1)}s] ${m}\n`);
};
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function fleetctl(env: Record<string, string>, ...args: string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(FLEETCTL, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

export interface Where {
  machine: string;
  pid: string | undefined;
}

/** unit -> [{machine, pid}] of the units matching glob that systemd runs, asked in every machine. */
export async function running(cluster: ClusterHandle, glob: string): Promise<Map<string, Where[]>> {
  const out = new Map<string, Where[]>();
  await Promise.all(
    cluster.state.machines.map(async (m) => {
      const r = await cluster.exec(m.name, ["systemctl", "show", "--property=Id,MainPID,ActiveState", glob], { timeoutMs: 20_000 });
      for (const block of r.stdout.split("\n\n")) {
        const p: Record<string, string> = Object.fromEntries(block.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
        if (p.ActiveState === "active" && p.Id) out.set(p.Id, [...(out.get(p.Id) ?? []), { machine: m.name, pid: p.MainPID }]);
      }
    }),
  );
  return out;
}

export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 60_000, intervalMs = 200): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Waits until n units matching glob run, each on exactly one machine; returns where. */
export const allOnce = (cluster: ClusterHandle, glob: string, n: number): Promise<Map<string, Where[]>> =>
  until(`${n} ${glob} active once`, async () => {
    const r = await running(cluster, glob);
    return r.size === n && [...r.values()].every((w) => w.length === 1) ? r : undefined;
  });

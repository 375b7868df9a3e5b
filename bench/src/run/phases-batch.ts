// Figures 2, 2b, 2's systemd floor and 3: many units at once, and a machine lost under them.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterHandle } from "@fleet/launcher";
import type { UnitState } from "@fleet/wire";
import { destroyAll, isActive, pollStates, unitFileText, unitName, type Api } from "./api.js";
import { log, now, POLL_MS, round } from "./config.js";
import { fleetctlMain, runFleetctl } from "./processes.js";

/**
 * Figure 2's floor: the same number of units, the same unit file, started by systemctl in the
 * machines directly, all machines at once, no fleet involved. Times come from the host clock the
 * machines share: first systemctl start issued -> last one returned (every job done).
 */
export async function phaseSystemdFloor(cluster: ClusterHandle, n: number) {
  const machines = cluster.state.machines.map((m) => m.name);
  const per = machines.map((_, i) => Math.floor(n / machines.length) + (i < n % machines.length ? 1 : 0));
  const units = (count: number) => Array.from({ length: count }, (_, i) => `bench-floor-${i}.service`).join(" ");
  const script = (count: number) =>
    [
      `for u in ${units(count)}; do printf '[Unit]\\nDescription=fleet bench floor\\n\\n[Service]\\nExecStart=/bin/sleep infinity\\n' > /run/systemd/system/$u; done`,
      "systemctl daemon-reload",
      "s=$(date +%s%N)",
      `systemctl start ${units(count)}`,
      "e=$(date +%s%N)",
      "echo $s $e",
    ].join(" && ");
  const cleanup = (count: number) => `systemctl stop ${units(count)}; for u in ${units(count)}; do rm -f /run/systemd/system/$u; done; systemctl daemon-reload`;
  const runs = await Promise.all(machines.map((m, i) => cluster.exec(m, ["sh", "-c", script(per[i]!)], { timeoutMs: 60_000 })));
  await Promise.all(machines.map((m, i) => cluster.exec(m, ["sh", "-c", cleanup(per[i]!)], { timeoutMs: 60_000 })));
  const spans = runs.map((r) => r.stdout.trim().split(/\s+/).map(Number));
  if (spans.some((x) => x.length !== 2 || x.some((v) => !Number.isFinite(v)))) throw new Error(`systemd floor: unexpected output ${JSON.stringify(runs.map((r) => r.stdout + r.stderr))}`);
  const start = Math.min(...spans.map((x) => x[0]!));
  const end = Math.max(...spans.map((x) => x[1]!));
  return {
    units: n,
    perMachine: Object.fromEntries(machines.map((m, i) => [m, per[i]])),
    allStartedMs: round((end - start) / 1e6),
    perMachineMs: Object.fromEntries(machines.map((m, i) => [m, round((spans[i]![1]! - spans[i]![0]!) / 1e6)])),
  };
}

/**
 * Figure 2 as a user runs it: one `fleetctl start` of n unit files, which returns once every
 * unit is launched (its start job done); then one listUnitStates checks they are all active.
 * The bench does not poll meanwhile, fleetctl's own polling is the only observer.
 */
export async function phaseBatchCli(api: Api, cluster: ClusterHandle, n: number) {
  const main = fleetctlMain();
  if (!main) return { skipped: "fleetctl not built" };
  const dir = mkdtempSync(join(tmpdir(), "fleet-bench-batch-"));
  const names = Array.from({ length: n }, () => unitName("clibatch"));
  const set = new Set(names);
  try {
    for (const name of names) writeFileSync(join(dir, name), unitFileText(name));
    const t = now();
    const r = await runFleetctl(main, ["start", ...names.map((nm) => join(dir, nm))], { ...process.env, ...cluster.env });
    const exitedMs = now() - t;
    if (r.code !== 0) throw new Error(`fleetctl start of ${n} units exited ${r.code}: ${(r.err || r.out).trim().slice(-300)}`);
    await pollStates(api, [], (states) => states.filter((s) => set.has(s.name) && isActive(s)).length === n, { intervalMs: POLL_MS, timeoutMs: 60_000, what: `${n} units active` });
    return { units: n, allActiveMs: round(now() - t), fleetctlExitedMs: round(exitedMs), launchedLines: r.out.split("\n").filter((l) => / launched on /.test(l)).length };
  } finally {
    await destroyAll(api, names);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Batch {
  names: string[];
  allActiveMs: number;
  createdAt: number | undefined;
  firstActiveMs: number | undefined;
  states: UnitState[];
}

/** Starts n units at once; returns timings and names. Polls every pollMs. */
export async function startBatch(api: Api, n: number, pollMs: number): Promise<Batch> {
  const names = Array.from({ length: n }, () => unitName("batch"));
  const set = new Set(names);
  const t = now();
  let createdAt: number | undefined;
  const creating = Promise.all(names.map((nm) => api.create(nm))).then(() => (createdAt = now() - t));
  let firstActiveMs: number | undefined;
  const result = await pollStates(
    api,
    [],
    (states) => {
      const active = states.filter((s) => set.has(s.name) && isActive(s));
      if (active.length > 0 && firstActiveMs === undefined) firstActiveMs = now() - t;
      return active.length === n ? active : undefined;
    },
    { intervalMs: pollMs, timeoutMs: 60_000, what: `${n} units active` },
  );
  const allActiveMs = now() - t;
  await creating;
  return { names, allActiveMs, createdAt, firstActiveMs, states: result };
}

/** Units per machine name (a machine id the cluster does not know stays an id). */
export function distribution(cluster: ClusterHandle, states: UnitState[]): Record<string, number> {
  const byId = Object.fromEntries(cluster.state.machines.map((m) => [m.machineId, m.name]));
  const d: Record<string, number> = {};
  for (const s of states) {
    const k = byId[s.machineId] ?? s.machineId;
    d[k] = (d[k] ?? 0) + 1;
  }
  return d;
}

export async function phaseFailover(api: Api, cluster: ClusterHandle, batchStates: UnitState[]) {
  const dist = distribution(cluster, batchStates);
  const victim = Object.entries(dist).sort((x, y) => y[1] - x[1])[0]![0];
  const victimId = cluster.machine(victim).machineId;
  const units = batchStates.filter((s) => s.machineId === victimId).map((s) => s.name);
  const set = new Set(units);
  log(`figure 3: killing ${victim} with ${units.length} unit(s) on it`);
  const t = now();
  const killing = cluster.kill(victim);
  let killReturnedMs: number | undefined;
  killing.then(() => (killReturnedMs = now() - t)).catch(() => {});
  let lastCount = 0;
  let firstMovedMs: number | undefined;
  const movedAway = (states: UnitState[]) => states.filter((s) => set.has(s.name) && isActive(s) && s.machineId !== victimId);
  const result = await pollStates(
    api,
    [],
    (states) => {
      const moved = new Set(movedAway(states).map((s) => s.name));
      if (moved.size > 0 && firstMovedMs === undefined) firstMovedMs = now() - t;
      lastCount = moved.size;
      return moved.size === units.length ? movedAway(states) : undefined;
    },
    { intervalMs: POLL_MS, timeoutMs: 60_000, what: `units of ${victim} active elsewhere` },
  ).catch((e: Error) => {
    throw new Error(`${e.message} (${lastCount}/${units.length} moved)`);
  });
  const ms = now() - t;
  await killing;
  return {
    killedMachine: victim,
    units: units.length,
    allActiveElsewhereMs: round(ms),
    firstActiveElsewhereMs: round(firstMovedMs),
    killCallReturnedMs: round(killReturnedMs),
    newDistribution: distribution(cluster, result),
  };
}

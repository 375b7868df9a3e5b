// Figures 6 (control plane down) and 7 (a machine partitioned).
import type { ClusterHandle } from "@fleet/launcher";
import { allOnce, fleetctl, log, running, sleep, TTL_S, UNITS, until } from "./observe.js";

export interface Outage {
  units: number;
  outageMs: number;
  restarted: number;
  duplicated: number;
  fleetRecoveredMs: number;
}

/** Figure 6: everything but the machines down for 3 x agent_ttl. */
export async function outage(cluster: ClusterHandle, env: Record<string, string>): Promise<Outage> {
  const before = await allOnce(cluster, "bench-f-*.service", UNITS);
  const components = cluster.state.components.map((c) => c.name);
  log(`figure 6: SIGKILL ${components.join(", ")} for ${3 * TTL_S} s`);
  for (const c of components) await cluster.killComponent(c, "SIGKILL");
  const dup = new Set<string>();
  const end = Date.now() + 3 * TTL_S * 1000;
  while (Date.now() < end) {
    for (const [u, w] of await running(cluster, "bench-f-*.service")) if (w.length > 1) dup.add(u);
    await sleep(500);
  }
  const tBack = Date.now();
  for (const c of ["etcd", "etcd-1", "etcd-2", "etcd-3", "nats"].filter((c) => components.includes(c))) await cluster.restartComponent(c);
  await Promise.all(components.filter((c) => !c.startsWith("etcd") && c !== "nats").map((c) => cluster.restartComponent(c)));
  await until("fleet to see every unit active", async () => {
    const r = await fleetctl(env, "list-units", "--no-legend", "--fields=unit,active");
    const active = r.stdout.split("\n").filter((l) => {
      const [unit = "", state = ""] = l.trim().split(/\s+/);
      return unit.startsWith("bench-f-") && state === "active";
    });
    return r.code === 0 && active.length === UNITS;
  });
  const recoveredMs = Date.now() - tBack;
  // Past the engine's grace period: anything that was going to move has moved.
  await sleep(TTL_S * 1000 + 2000);
  const after = await running(cluster, "bench-f-*.service");
  let restarted = 0;
  for (const [u, [w]] of before) {
    const now = after.get(u) ?? [];
    if (now.length > 1) dup.add(u);
    if (now.length !== 1 || now[0]!.machine !== w!.machine || now[0]!.pid !== w!.pid) restarted++;
  }
  return { units: UNITS, outageMs: 3 * TTL_S * 1000, restarted, duplicated: dup.size, fleetRecoveredMs: recoveredMs };
}

export interface Partition {
  machine: string;
  units: number;
  allActiveElsewhereMs: number | undefined;
  atMostOnce: { activeElsewhereMs: number | undefined; seenTwice: number; samples: number; longestSampleGapMs: number };
}

/** Figure 7: one machine partitioned; its plain units move, an AtMostOnce unit moves without ever running twice. */
export async function partition(cluster: ClusterHandle): Promise<Partition> {
  const where = await allOnce(cluster, "bench-f-*.service", UNITS);
  const once = await allOnce(cluster, "bench-once.service", 1);
  const victim = once.get("bench-once.service")![0]!.machine;
  const mine = [...where].filter(([, [w]]) => w!.machine === victim).map(([u]) => u);
  log(`figure 7: partition ${victim} (${mine.length} units and bench-once.service)`);
  let stop = false;
  let twice = 0;
  let samples = 0;
  let longestGapMs = 0;
  let onceBackMs: number | undefined;
  const t = Date.now();
  const sampler = (async () => {
    let last = Date.now();
    while (!stop) {
      const states = await Promise.all(cluster.state.machines.map(async (m) => [m.name, (await cluster.exec(m.name, ["systemctl", "is-active", "bench-once.service"])).stdout.trim()] as const));
      const now = Date.now();
      samples++;
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      const active = states.filter(([, s]) => s === "active").map(([m]) => m);
      if (active.length > 1) twice++;
      if (onceBackMs === undefined && active.length === 1 && active[0] !== victim) onceBackMs = now - t;
      await sleep(20);
    }
  })();
  await cluster.partition(victim);
  let movedMs: number | undefined;
  try {
    await until(
      `${victim}'s units active elsewhere`,
      async () => {
        const r = await running(cluster, "bench-f-*.service");
        return mine.every((u) => (r.get(u) ?? []).some((w) => w.machine !== victim));
      },
      60_000,
      100,
    );
    movedMs = Date.now() - t;
    await until("bench-once.service active elsewhere", () => onceBackMs !== undefined, 60_000, 50);
  } finally {
    await cluster.heal(victim);
  }
  await cluster.waitRegistered();
  await sleep(TTL_S * 1000);
  stop = true;
  await sampler;
  return { machine: victim, units: mine.length, allActiveElsewhereMs: movedMs, atMostOnce: { activeElsewhereMs: onceBackMs, seenTwice: twice, samples, longestSampleGapMs: longestGapMs } };
}

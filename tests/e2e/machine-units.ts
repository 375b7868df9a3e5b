// What every machine's systemd runs, read inside the machines: which units are active where and
// with which MainPID, so a test can say "nothing was stopped, restarted, moved or duplicated".
import type { ClusterHandle } from "@fleet/launcher";

export interface Running {
  readonly machine: string;
  readonly mainPid: string;
}

/** Every machine's active units matching the glob (systemctl show inside each machine), by unit. */
export async function runningUnits(cluster: ClusterHandle, glob: string): Promise<Map<string, Running[]>> {
  const byUnit = new Map<string, Running[]>();
  await Promise.all(
    cluster.state.machines.map(async (m) => {
      const r = await cluster.exec(m.name, ["systemctl", "show", "--property=Id,MainPID,ActiveState", glob], { timeoutMs: 20_000 });
      for (const block of r.stdout.split("\n\n")) {
        const props = Object.fromEntries(
          block
            .split("\n")
            .filter((l) => l.includes("="))
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        if (props.ActiveState !== "active" || !props.Id) continue;
        byUnit.set(props.Id, [...(byUnit.get(props.Id) ?? []), { machine: m.name, mainPid: props.MainPID ?? "" }]);
      }
    }),
  );
  return byUnit;
}

/** "unit machine pid" lines, sorted: equal before and after means nothing moved or restarted. */
export function describeRunning(running: ReadonlyMap<string, readonly Running[]>): string[] {
  const lines: string[] = [];
  for (const [unit, where] of running) for (const r of where) lines.push(`${unit} ${r.machine} ${r.mainPid}`);
  return lines.sort();
}

/** Units active on more than one machine. */
export function duplicates(running: ReadonlyMap<string, readonly Running[]>): string[] {
  return [...running].filter(([, where]) => where.length > 1).map(([unit, where]) => `${unit} on ${where.map((w) => w.machine).join(", ")}`);
}

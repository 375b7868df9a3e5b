// Samples whether UNIT runs inside every machine, by a loop that runs in the machine itself (a
// transient service), so the samples keep coming every ~50 ms even when the host is busy or the
// machine is partitioned. "Runs" means its cgroup holds processes: read from the cgroup file
// system, which never waits for systemd (systemctl is-active does, for as long as a
// daemon-reload takes). The log is read back at the end and the machines' samples merged on the
// clock they share (the host's).
import type { ClusterHandle } from "@fleet/launcher";

const SAMPLER = "fleet-e2e-sampler";

export interface Sample {
  readonly at: number;
  readonly machine: string;
  readonly state: string;
}

export interface SampleReport {
  /** Moments when the unit was active on two machines or more. */
  readonly twice: string[];
  readonly samples: number;
  /** The longest time between two samples of one machine. */
  readonly longestGapMs: number;
}

export async function startSampler(cluster: ClusterHandle, unit: string): Promise<void> {
  await Promise.all(
    cluster.state.machines.map((m) =>
      cluster.exec(m.name, [
        "systemd-run",
        `--unit=${SAMPLER}`,
        "-q",
        "/bin/sh",
        "-c",
        `f=/sys/fs/cgroup/system.slice/${unit}/cgroup.procs; while :; do if read -r p < $f 2>/dev/null; then s=active; else s=inactive; fi; echo "$(date +%s%3N) $s"; sleep 0.05; done > /run/${SAMPLER}.log`,
      ]),
    ),
  );
}

/** Stops the loops and reads what they saw. */
export async function stopSampler(cluster: ClusterHandle): Promise<Sample[]> {
  const logs = await Promise.all(
    cluster.state.machines.map(async (m) => {
      await cluster.exec(m.name, ["systemctl", "stop", SAMPLER]);
      const text = (await cluster.exec(m.name, ["cat", `/run/${SAMPLER}.log`])).stdout;
      await cluster.exec(m.name, ["rm", "-f", `/run/${SAMPLER}.log`]);
      return text
        .split("\n")
        .map((line) => line.trim().split(" "))
        .filter((parts) => parts.length === 2 && /^\d+$/.test(parts[0] ?? ""))
        .map(([at, state]) => ({ at: Number(at), machine: m.name, state: state ?? "" }));
    }),
  );
  return logs.flat().sort((a, b) => a.at - b.at);
}

/** Walks the merged samples: at each one, which machines' latest sample says active. */
export function analyse(samples: readonly Sample[]): SampleReport {
  const latest = new Map<string, Sample>();
  const twice: string[] = [];
  let longestGapMs = 0;
  for (const s of samples) {
    const before = latest.get(s.machine);
    if (before) longestGapMs = Math.max(longestGapMs, s.at - before.at);
    latest.set(s.machine, s);
    const active = [...latest.values()].filter((x) => x.state === "active").map((x) => x.machine);
    if (active.length > 1) twice.push(`${new Date(s.at).toISOString()}: ${active.sort().join(", ")}`);
  }
  return { twice, samples: samples.length, longestGapMs };
}

// What the end-to-end tests share: a sandbox cluster of their own, unit files written to a
// temporary directory, and questions asked of the machines with systemctl.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster, type ClusterHandle, type ClusterMachineSpec, type ClusterOptions } from "@fleet/launcher";

/** A cluster with an agent TTL of 5 s, named after the test file and this process. */
export function startTestCluster(label: string, machines: ClusterMachineSpec[], extra: Partial<ClusterOptions> = {}): Promise<ClusterHandle> {
  return startCluster({
    ...extra,
    machines,
    agentTtlSeconds: 5,
    reconcileIntervalSeconds: 2,
    stateDir: `/var/tmp/fleet-dev/e2e-${label}-${process.pid}`,
    cluster: `${label}${process.pid}`,
  });
}

/** Writes unit files into a fresh temporary directory; returns each file's path. */
export function unitWriter(label: string): { write(name: string, body: string): string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), `fleet-e2e-${label}-`));
  return {
    dir,
    write(name, body) {
      const path = join(dir, name);
      writeFileSync(path, body);
      return path;
    },
  };
}

/** The sandbox machine (m1, …) that has the given machine id. */
export function machineName(cluster: ClusterHandle, id: string): string {
  const m = cluster.state.machines.find((x) => x.machineId === id);
  if (!m) throw new Error(`no sandbox machine has id ${id}`);
  return m.name;
}

/** `systemctl is-active UNIT` inside the machine. */
export async function isActive(cluster: ClusterHandle, machine: string, unit: string): Promise<string> {
  return (await cluster.exec(machine, ["systemctl", "is-active", unit])).stdout.trim();
}

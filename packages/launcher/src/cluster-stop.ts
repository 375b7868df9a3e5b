// Stopping a cluster by what its state file records, in the order that lets each part go
// quickly: partitions healed, machines, then api/engines, gateways, NATS and etcd.
import { existsSync, rmSync } from "node:fs";
import { releaseAddressBlock } from "./address-blocks.js";
import { destroyMachine, machineRunning } from "./machine.js";
import { healPartition } from "./partition.js";
import { isAlive, terminate } from "./proc.js";
import { stopClusterSsh } from "./ssh.js";
import { writeState, type ClusterState, type ComponentRecord } from "./state.js";

export interface StopReport {
  stopped: string[];
  alreadyDead: string[];
  errors: string[];
}

/** Stops everything a state records (by recorded PIDs only): heals partitions first (a
 * partitioned machine would take its whole grace period to power off), then machines, then
 * services, then NATS and etcd. removeState also deletes the state dir. */
export async function stopCluster(state: ClusterState, o: { removeState?: boolean; machineGraceMs?: number } = {}): Promise<StopReport> {
  const report: StopReport = { stopped: [], alreadyDead: [], errors: [] };
  if (state.status !== "failed") state.status = "stopping";
  if (existsSync(state.stateDir)) writeState(state);
  await healAll(state, report);
  if (existsSync(state.stateDir)) writeState(state);
  await Promise.all(
    state.machines.map(async (m) => {
      const was = machineRunning(m);
      try {
        await destroyMachine(m, o.machineGraceMs ?? 20_000);
        (was ? report.stopped : report.alreadyDead).push(`machine ${m.name}`);
      } catch (e) {
        report.errors.push(`machine ${m.name}: ${(e as Error).message}`);
      }
    }),
  );
  await stopGroup(state.components.filter((c) => c.kind === "api" || c.kind === "engine"), report);
  await stopGroup(state.components.filter((c) => c.kind === "registry-gateway"), report);
  await stopGroup(state.components.filter((c) => c.kind === "nats" || c.kind === "etcd"), report);
  if (state.ssh) {
    const was = isAlive({ pid: state.ssh.agentPid, startTime: state.ssh.agentStartTime });
    if (!(await stopClusterSsh(state.ssh))) report.errors.push(`ssh-agent (pid ${state.ssh.agentPid}) did not exit`);
    else (was ? report.stopped : report.alreadyDead).push("ssh-agent");
  }
  if (report.errors.length === 0 && state.addressBlock) releaseAddressBlock(state.stateDir, state.addressBlock);
  if (o.removeState && report.errors.length === 0) rmSync(state.stateDir, { recursive: true, force: true });
  return report;
}

async function healAll(state: ClusterState, report: StopReport): Promise<void> {
  for (const p of [...(state.partitions ?? [])]) {
    try {
      await healPartition(p.chain);
      state.partitions = (state.partitions ?? []).filter((x) => x.machine !== p.machine);
      report.stopped.push(`partition of ${p.machine}`);
    } catch (e) {
      report.errors.push(`heal ${p.machine}: ${(e as Error).message}`);
    }
  }
}

async function stopGroup(recs: ComponentRecord[], report: StopReport): Promise<void> {
  await Promise.all(
    recs.map(async (c) => {
      const was = isAlive(c);
      const ok = await terminate(c, 10_000);
      if (!ok) report.errors.push(`${c.name} (pid ${c.pid}) did not exit`);
      else (was ? report.stopped : report.alreadyDead).push(c.name);
      if (c.dataDir) rmSync(c.dataDir, { recursive: true, force: true });
    }),
  );
}

// Waiting on a cluster's parts: a component ready, machines registered with the gateways, a
// rebooted machine in its own cgroup; and what each machine is given to run.
import { readFileSync } from "node:fs";
import { connect, unary, RegistryServiceClient } from "@fleet/wire";
import { installMachineCertificate, launcherCredentials, machineTlsEnv } from "./cluster-tls.js";
import { etcdHealthy } from "./etcd.js";
import { agentLogCommand } from "./machine-journal.js";
import { machineRunning, type CreateMachineOptions, type MachineRecord } from "./machine.js";
import { splitHostPort, waitForTcp } from "./ports.js";
import { isAlive, logTail, sleep, waitFor, WaitAborted } from "./proc.js";
import { clusterPublicKey } from "./ssh.js";
import { gatewayEndpoints, type ClusterState, type ComponentRecord } from "./state.js";

/** What every machine of the cluster runs besides systemd: the agent (with the cluster's
 * gateways, NATS and agent_ttl) and, when the cluster has ssh, sshd for its user and key. */
export function machineServices(state: ClusterState): Pick<CreateMachineOptions, "agent" | "ssh" | "installCertificate"> {
  const tls = state.tls;
  const nats = state.endpoints.nats;
  if (!nats) throw new Error(`cluster ${state.cluster} has no NATS endpoint in its state`);
  return {
    agent: {
      gatewayEndpoint: gatewayEndpoints(state).join(","),
      natsServers: nats,
      agentTtlSeconds: state.agentTtlSeconds,
      verbosity: "info",
      // fleet's API on each machine's /var/run/fleet.sock, relayed by its agent to the api.
      ...(state.endpoints.api ? { apiEndpoint: state.endpoints.api } : {}),
      ...(state.endpoints.apiHttp ? { apiHttpEndpoint: state.endpoints.apiHttp.replace(/^https?:\/\//, "") } : {}),
      ...(tls ? { tlsEnv: machineTlsEnv() } : {}),
    },
    ...(tls ? { installCertificate: (m: { machineId: string; publicIp: string; fsRoot: string }) => installMachineCertificate(state.repoRoot, tls, m) } : {}),
    ...(state.ssh ? { ssh: { port: state.ssh.port, user: state.ssh.user, authorizedKey: clusterPublicKey(state.ssh) } } : {}),
  };
}

/** Ready = etcd healthy / the listen port accepts TCP / (engines) still alive after 0.5 s. */
export async function waitComponentReady(rec: ComponentRecord, timeoutMs = 30_000): Promise<void> {
  if (rec.healthUrl) {
    const metricsUrl = rec.healthUrl.replace(/\/health$/, "");
    await waitFor(
      `${rec.name} health`,
      () => {
        if (!isAlive(rec)) throw new WaitAborted(`${rec.name} (pid ${rec.pid}) exited\n--- ${rec.logFile} ---\n${logTail(rec.logFile)}`);
        return etcdHealthy(metricsUrl);
      },
      { timeoutMs, intervalMs: 100 },
    );
  } else if (rec.address) {
    const { host, port } = splitHostPort(rec.address);
    await waitForTcp(rec.name, host, port, { timeoutMs, proc: rec });
  } else {
    await sleep(500); // engines listen on nothing: alive after a moment is ready
    if (!isAlive(rec)) throw new Error(`${rec.name} (pid ${rec.pid}) exited at startup\n--- ${rec.logFile} ---\n${logTail(rec.logFile)}`);
  }
}

/** The machine ids RegistryService.ListMachines returns, from the first gateway that answers
 * (gateways may be down: any live one will do). */
export async function registeredMachineIds(state: ClusterState, deadlineMs = 3_000): Promise<Set<string>> {
  const gateways = gatewayEndpoints(state);
  if (gateways.length === 0) throw new Error("no gateway endpoint in state");
  const errors: string[] = [];
  for (const gateway of gateways) {
    const client = connect(RegistryServiceClient, gateway, launcherCredentials(state.tls));
    try {
      const res = await unary(client.listMachines.bind(client), { minRevision: 0 }, { deadlineMs });
      return new Set(res.machines.map((x) => x.id));
    } catch (e) {
      errors.push(`${gateway}: ${(e as Error).message}`);
    } finally {
      client.close();
    }
  }
  throw new Error(`no gateway answered ListMachines: ${errors.join("; ")}`);
}

/** Polls ListMachines (through any live gateway) until every machine (or those named) is there. */
export async function waitRegistered(state: ClusterState, timeoutMs: number, names?: readonly string[]): Promise<void> {
  const machines = names ? state.machines.filter((m) => names.includes(m.name)) : state.machines;
  await waitFor(
    `machines ${machines.map((m) => m.name).join(", ")} to register`,
    async () => {
      for (const m of machines) {
        if (!machineRunning(m)) throw new WaitAborted(`machine ${m.name} died while waiting for registration`);
      }
      const ids = await registeredMachineIds(state);
      const missing = machines.filter((m) => !ids.has(m.machineId));
      if (missing.length > 0) throw new Error(`not yet registered: ${missing.map((m) => `${m.name} (${m.machineId}, agent log: ${agentLogCommand(m)})`).join(", ")}`);
      return true;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** Waits until a just-booted machine's launcher moved itself into the machine's cgroup. */
export async function waitInOwnCgroup(m: MachineRecord, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    `machine ${m.name} in its cgroup ${m.cgroupName}`,
    () => {
      if (!machineRunning(m) || m.nspawnPid === undefined) throw new WaitAborted(`machine ${m.name}: nspawn exited\n--- ${m.logFile} ---\n${logTail(m.logFile)}`);
      const text = readFileSync(`/proc/${m.nspawnPid}/cgroup`, "utf8");
      return text.split("\n").some((l) => l.startsWith("0::") && `${l}/`.includes(`/${m.cgroupName}/`));
    },
    { timeoutMs, intervalMs: 10 },
  );
}

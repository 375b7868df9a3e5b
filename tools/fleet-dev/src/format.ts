// Output of fleet-dev: export lines and the status view. Pure.
import type { ClusterState } from "@fleet/launcher";

const SAFE = /^[A-Za-z0-9_./:@,=+-]*$/;

export function shellQuote(v: string): string {
  return SAFE.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/** `export K=V` lines, in a stable order. */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
    .join("");
}

export interface StatusView {
  cluster: string;
  stateDir: string;
  status: ClusterState["status"];
  createdAt: string;
  endpoints: ClusterState["endpoints"];
  env: Record<string, string>;
  /** Name of the engine holding leadership (from etcd), if known. */
  leader?: string;
  components: { name: string; kind: string; pid: number; alive: boolean; address?: string; metricsUrl?: string; logFile: string }[];
  /** ssh to the machines, when the cluster has it. */
  ssh?: { user: string; port: number; keyFile: string; knownHostsFile: string; agentSocket: string; agentPid: number; agentAlive: boolean };
  machines: {
    name: string;
    machineId: string;
    publicIp: string;
    metadata: Record<string, string>;
    nspawnPid?: number;
    pid1?: number;
    alive: boolean;
    cgroup: string;
    /** The host command that shows its agent's log (its journal). */
    agentLog: string;
    /** The agent's Prometheus metrics (its /healthz and /readyz beside them). */
    metricsUrl: string;
    /** sshd's host key on this filesystem. */
    sshHostKey?: string;
    /** Cut off by fleet-dev partition: its iptables chain. */
    partition?: { chain: string; since: string };
  }[];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd() + "\n").join("");
}

export function formatStatus(v: StatusView): string {
  const md = (m: Record<string, string>) =>
    Object.entries(m)
      .map(([k, x]) => `${k}=${x}`)
      .join(",") || "-";
  return (
    `cluster ${v.cluster} (${v.stateDir}): ${v.status}, created ${v.createdAt}\n\n` +
    table([
      ["COMPONENT", "PID", "STATE", "ADDRESS", "METRICS"],
      ...v.components.map((c) => [c.name, String(c.pid), (c.alive ? "alive" : "dead") + (c.name === v.leader ? ", leader" : ""), c.address ?? "-", c.metricsUrl ?? "-"]),
    ]) +
    (v.ssh
      ? `\nssh: user ${v.ssh.user}, port ${v.ssh.port}, key ${v.ssh.keyFile}, known hosts ${v.ssh.knownHostsFile}, ` +
        `ssh-agent pid ${v.ssh.agentPid} ${v.ssh.agentAlive ? "alive" : "dead"} (${v.ssh.agentSocket})\n`
      : "") +
    "\n" +
    table([
      ["MACHINE", "MACHINE-ID", "PUBLIC-IP", "NSPAWN-PID", "PID1", "STATE", "METADATA"],
      ...v.machines.map((m) => [m.name, m.machineId, m.publicIp, m.nspawnPid ? String(m.nspawnPid) : "-", m.pid1 ? String(m.pid1) : "-", (m.alive ? "alive" : "dead") + (m.partition ? ", partitioned" : ""), md(m.metadata)]),
    ])
  );
}

/** How to reach the machines over ssh, for stderr after up. Pure. */
export function sshHints(state: { ssh?: ClusterState["ssh"]; machines: readonly Pick<ClusterState["machines"][number], "machineId" | "publicIp">[] }): string[] {
  const ssh = state.ssh;
  if (!ssh) return ["ssh: the machines run no sshd (install openssh-server: scripts/install.sh)"];
  const first = state.machines[0];
  const portFlag = ssh.port === 22 ? "" : ` --ssh-port=${ssh.port}`;
  const tunnel = first ? (ssh.port === 22 ? first.publicIp : `${first.publicIp}:${ssh.port}`) : "<machine ip>";
  return [
    `ssh: every machine runs sshd on its own address, port ${ssh.port}, for user ${ssh.user}; the export lines below hand fleetctl the cluster's ssh-agent (key ${ssh.keyFile}) and known_hosts (${ssh.knownHostsFile})`,
    `ssh: try  fleetctl ssh${portFlag} ${first ? first.machineId.slice(0, 8) : "<machine id>"} -- systemctl status fleet-agent   or   fleetctl --tunnel ${tunnel} list-machines`,
    `ssh: keeping your own agent instead: ssh-add ${ssh.keyFile}; fleetctl --ssh-username=${ssh.user} --known-hosts-file=${ssh.knownHostsFile} ...`,
  ];
}

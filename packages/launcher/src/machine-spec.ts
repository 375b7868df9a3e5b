// Pure parts of a sandbox machine: names, paths, file contents, command lines.
import { randomBytes } from "node:crypto";
import { join } from "node:path";

export const DEFAULT_BASE_DIR = "/var/tmp/fleet-dev";
export const CGROUP_HIERARCHIES = ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"] as const;

/** Units that /usr ships enabled (or that would touch the shared host network) and that a
 * sandbox machine must not start. Masked with a /dev/null symlink before boot. */
export const MASKED_UNITS = [
  "etcd.service",
  "nats-server.service",
  "postgresql.service",
  "postgresql@.service",
  "console-getty.service",
  "getty@tty1.service",
  "getty@.service",
  "serial-getty@.service",
  "container-getty@.service",
  "systemd-networkd-wait-online.service",
  "systemd-networkd.service",
  "systemd-networkd.socket",
  "systemd-network-generator.service",
  "systemd-resolved.service",
  "systemd-timesyncd.service",
  "systemd-homed.service",
  "systemd-userdbd.socket",
  "systemd-pstore.service",
  "systemd-boot-update.service",
  "systemd-firstboot.service",
  // Debian's sshd would listen on all addresses of the shared network namespace: machines run
  // their own sshd.service on their own address instead (ssh-spec.ts).
  "ssh.service",
  "ssh.socket",
  "cron.service",
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "e2scrub_all.timer",
  "fstrim.timer",
  "logrotate.timer",
  "man-db.timer",
  "docker.service",
  "containerd.service",
];

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const RESERVED_NAMES = new Set(["services", "state", "logs"]);

/** Machine and cluster names become hostnames, directory and cgroup names. */
export function validateName(kind: "machine" | "cluster", name: string): void {
  if (!NAME_RE.test(name)) {
    throw new Error(`invalid ${kind} name ${JSON.stringify(name)}: use 1-32 of [a-z0-9-], not starting or ending with '-'`);
  }
  if (kind === "machine" && RESERVED_NAMES.has(name)) throw new Error(`machine name ${JSON.stringify(name)} is reserved`);
}

const META_PART_RE = /^[A-Za-z0-9_.\-/]+$/;

/** fleet metadata "k=v,k=v" -> object. Pure; throws on malformed input. */
export function parseMetadata(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text.trim() === "") return out;
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    const k = pair.slice(0, eq).trim();
    const v = pair.slice(eq + 1).trim();
    if (eq <= 0 || !META_PART_RE.test(k) || !META_PART_RE.test(v)) throw new Error(`bad metadata ${JSON.stringify(pair)}: want key=value`);
    out[k] = v;
  }
  return out;
}

/** object -> fleet metadata "k=v,k=v" (keys sorted, so files are stable). Pure. */
export function formatMetadata(md: Record<string, string>): string {
  return Object.keys(md)
    .sort()
    .map((k) => {
      const v = md[k] ?? "";
      if (!META_PART_RE.test(k) || !META_PART_RE.test(v)) throw new Error(`bad metadata ${k}=${v}`);
      return `${k}=${v}`;
    })
    .join(",");
}

export function newMachineId(): string {
  return randomBytes(16).toString("hex");
}

export interface MachinePaths {
  /** <base>/<cluster>/<machine> */
  dir: string;
  /** root filesystem booted by nspawn */
  fs: string;
  /** bound to /run/dbus: the container's system bus socket appears here */
  dbusDir: string;
  /** nspawn's (and the console's) output */
  logFile: string;
  /** leaf cgroup name under each hierarchy in CGROUP_HIERARCHIES */
  cgroupName: string;
}

/** Paths of machine `name` of `cluster`, whose directory is <clusterDir>/<name>. */
export function machinePaths(clusterDir: string, cluster: string, name: string): MachinePaths {
  const dir = join(clusterDir, name);
  return {
    dir,
    fs: join(dir, "fs"),
    dbusDir: join(dir, "dbus"),
    logFile: join(dir, "nspawn.log"),
    // Cluster in the name: two clusters (or a test and a dev cluster) may both have "m1".
    cgroupName: `fleet-${cluster}-${name}`,
  };
}

/** Public IP of the i-th machine (1-based) of a cluster whose address block is `block`
 * (address-blocks.ts: 127.0.1 unless another cluster holds it): loopback, where the
 * machine's agent and sshd listen. */
export function machinePublicIp(index: number, block = "127.0.1"): string {
  if (!Number.isInteger(index) || index < 1 || index > 254) throw new Error(`machine index out of range: ${index}`);
  return `${block}.${index}`;
}

export const AGENT_UNIT_PATH = "etc/systemd/system/fleet-agent.service";
export const AGENT_ENV_PATH = "etc/fleet/agent.env";
/** The agent's unit answers to fleet.service too (its Alias=): the symlink `systemctl enable` makes. */
export const AGENT_ALIAS_PATH = "etc/systemd/system/fleet.service";
/** Puts the repository's fleetctl on login shells' PATH (/usr is the host's, read-only). */
export const FLEETCTL_PROFILE_PATH = "etc/profile.d/fleetctl.sh";
export const REPO_MOUNT = "/opt/fleet";

export function agentUnitText(): string {
  return [
    "[Unit]",
    "Description=fleet agent",
    // Stopped before the bus at shutdown: leaving the cluster stops units over D-Bus.
    "After=dbus.socket dbus.service",
    "Wants=dbus.socket",
    // Never give up: the agent must come back however often it crashes.
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=simple",
    // A small young generation and no optimizing compiler keep the agent's RSS low (63 -> 52 MB
    // at start-up); it allocates little and is not CPU-bound.
    `ExecStart=/usr/bin/node --max-semi-space-size=1 --lite-mode ${REPO_MOUNT}/services/agent/dist/main.js`,
    "EnvironmentFile=/etc/fleet/agent.env",
    // SIGHUP re-reads the configuration (`systemctl reload fleet`), as fleetd's did.
    "ExecReload=/bin/kill -HUP $MAINPID",
    "Restart=always",
    "RestartSec=1",
    // A stop unloads the machine's units before the agent exits (they stop within their own
    // TimeoutStopSec=, 90 s by default).
    "TimeoutStopSec=120",
    // Logs go to the machine's journal (journalctl -u fleet-agent), as deploy/systemd's do.
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "Alias=fleet.service",
    "",
  ].join("\n");
}

/** Where a machine has fleetctl installed (copied from the repository's build when the machine
 * is made: the bound repository may be in a directory the ssh user cannot enter). */
export const FLEETCTL_INSTALL_DIR = "/opt/fleetctl";

/** fleetctl's directories on a machine's PATH: the installed copy, then the bound repository's. */
export const FLEETCTL_PATH = `${FLEETCTL_INSTALL_DIR}/bin:${REPO_MOUNT}/clients/fleetctl/bin`;

export function fleetctlProfileText(): string {
  return `PATH="$PATH:${FLEETCTL_PATH}"\n`;
}

export interface AgentEnv {
  gatewayEndpoint: string;
  natsServers: string;
  publicIp: string;
  metadata: Record<string, string>;
  agentTtlSeconds: number;
  verbosity?: string;
  /** The api's gRPC and HTTP API v1 addresses: the agent serves fleet's API on the machine's
   * /var/run/fleet.sock, relayed there. */
  apiEndpoint?: string;
  apiHttpEndpoint?: string;
  /** FLEET_TLS_* (the machine's certificate files inside it), under mutual TLS. */
  tlsEnv?: Record<string, string>;
}

/** Where every sandbox machine's agent serves /metrics, /healthz and /readyz: its own address, this port. */
export const AGENT_METRICS_PORT = 49701;

export function agentEnvText(e: AgentEnv): string {
  return [
    `FLEET_GATEWAY_ENDPOINT=${e.gatewayEndpoint}`,
    `FLEET_NATS_SERVERS=${e.natsServers}`,
    `FLEET_PUBLIC_IP=${e.publicIp}`,
    `FLEET_METADATA=${formatMetadata(e.metadata)}`,
    `FLEET_AGENT_TTL=${e.agentTtlSeconds}`,
    `FLEET_VERBOSITY=${e.verbosity ?? "info"}`,
    `FLEET_METRICS_LISTEN=${e.publicIp}:${AGENT_METRICS_PORT}`,
    ...(e.apiEndpoint ? [`FLEET_API_ENDPOINT=${e.apiEndpoint}`] : []),
    ...(e.apiHttpEndpoint ? [`FLEET_API_HTTP_ENDPOINT=${e.apiHttpEndpoint}`] : []),
    ...Object.entries(e.tlsEnv ?? {}).map(([k, v]) => `${k}=${v}`),
    "",
  ].join("\n");
}

export function nspawnArgs(o: { name: string; fs: string; dbusDir: string; repoRoot: string }): string[] {
  return [
    "--register=no",
    "--keep-unit",
    "--bind-ro=/usr",
    `--bind=${o.dbusDir}:/run/dbus`,
    `--bind-ro=${o.repoRoot}:${REPO_MOUNT}`,
    "-b",
    "-M",
    o.name,
    "-D",
    o.fs,
  ];
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A bash script that moves itself into the machine's own cgroups, then execs nspawn, so
 * the PID that ran it *is* nspawn's. Pure. */
export function launcherScript(cgroupName: string, args: string[]): string {
  const moves = CGROUP_HIERARCHIES.map((h) => `mkdir -p ${shq(`${h}/${cgroupName}`)} && echo $$ > ${shq(`${h}/${cgroupName}/cgroup.procs`)} || exit 97`);
  return [
    "set -e",
    ...moves,
    `export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1`,
    `exec /usr/bin/systemd-nspawn ${args.map(shq).join(" ")}`,
  ].join("\n");
}

/** Parses /proc/<pid>/status's NSpid line: the PID as seen in each nested namespace. */
export function parseNsPid(statusText: string): number[] {
  const line = statusText.split("\n").find((l) => l.startsWith("NSpid:"));
  if (!line) return [];
  return line.slice("NSpid:".length).trim().split(/\s+/).map(Number);
}

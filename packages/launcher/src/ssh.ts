// ssh on a sandbox cluster: one user key per cluster held by the cluster's own ssh-agent
// (fleet's fleetctl authenticated only with an agent's keys), a known_hosts file with the host
// key of every machine fleet-dev made, and sshd inside each machine on its own address.
import { execFileSync } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { isAlive, logTail, spawnLogged, terminate, waitFor, WaitAborted, type ProcRef } from "./proc.js";
import {
  SSH_HOST_KEY_PATH,
  SSH_USER,
  SSHD_CONFIG_PATH,
  SSHD_UNIT,
  SSHD_UNIT_PATH,
  addSshUser,
  knownHostsLine,
  sshdConfigText,
  sshdUnitText,
} from "./ssh-spec.js";

const SSHD = "/usr/sbin/sshd";
const SSH_KEYGEN = "/usr/bin/ssh-keygen";
const SSH_AGENT = "/usr/bin/ssh-agent";
const SSH_ADD = "/usr/bin/ssh-add";

/** A cluster's ssh, as the state file records it. */
export interface ClusterSsh {
  user: string;
  /** sshd's port on every machine's address (22 unless the host holds it). */
  port: number;
  /** The user's private key (its public key is in every machine's authorized_keys). */
  keyFile: string;
  /** Host keys of the machines fleet-dev made (up, add); fleetctl's --known-hosts-file. */
  knownHostsFile: string;
  /** The cluster's ssh-agent, holding keyFile: SSH_AUTH_SOCK for fleetctl. */
  agentSocket: string;
  agentPid: number;
  agentStartTime: string;
  agentLogFile: string;
}

/** What the host needs for sandbox ssh; empty when it has it all. */
export function missingSshTools(): string[] {
  return [SSHD, SSH_KEYGEN, SSH_AGENT, SSH_ADD].filter((f) => !existsSync(f));
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** Is port free on every address (nothing on the host listens there)? */
export async function portFreeOn(addresses: readonly string[], port: number): Promise<boolean> {
  return (await Promise.all(addresses.map((a) => canListen(a, port)))).every(Boolean);
}

/** sshd's port on sandbox machines: 22, unless the host holds it on every address (a host
 * sshd on 0.0.0.0 does, and then no machine could have it): 2222. */
export async function sandboxSshPort(): Promise<number> {
  // An address no sandbox machine ever has.
  return (await canListen("127.255.255.254", 22)) ? 22 : 2222;
}

/** The cluster's key, empty known_hosts and ssh-agent (in <stateDir>/ssh). */
export async function startClusterSsh(o: { stateDir: string; port: number; detached: boolean }): Promise<ClusterSsh> {
  const dir = join(o.stateDir, "ssh");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, "id_ed25519");
  execFileSync(SSH_KEYGEN, ["-q", "-t", "ed25519", "-N", "", "-C", `fleet-dev@${o.stateDir}`, "-f", keyFile]);
  const knownHostsFile = join(dir, "known_hosts");
  writeFileSync(knownHostsFile, "");
  const agentSocket = join(dir, "agent.sock");
  const agentLogFile = join(dir, "ssh-agent.log");
  const agent = await spawnLogged({ cmd: SSH_AGENT, args: ["-D", "-a", agentSocket], logFile: agentLogFile, detached: o.detached });
  const rec: ClusterSsh = { user: SSH_USER, port: o.port, keyFile, knownHostsFile, agentSocket, agentPid: agent.pid, agentStartTime: agent.startTime, agentLogFile };
  await waitFor(
    "ssh-agent's socket",
    () => {
      if (!isAlive(agentRef(rec))) throw new WaitAborted(`ssh-agent exited\n--- ${agentLogFile} ---\n${logTail(agentLogFile)}`);
      return existsSync(agentSocket);
    },
    { timeoutMs: 10_000, intervalMs: 20 },
  );
  execFileSync(SSH_ADD, ["-q", keyFile], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: ["ignore", "ignore", "pipe"] });
  return rec;
}

export function agentRef(s: ClusterSsh): ProcRef {
  return { pid: s.agentPid, startTime: s.agentStartTime };
}

export async function stopClusterSsh(s: ClusterSsh): Promise<boolean> {
  return terminate(agentRef(s), 5_000);
}

/**
 * Sets sshd up in a machine's root filesystem (before it boots): the ssh user with the
 * cluster's public key, a new host key, sshd's config on the machine's own address, and
 * sshd.service enabled. Returns the host's public key ("ssh-ed25519 AAAA... <comment>").
 */
export function installSshd(fs: string, o: { address: string; port: number; user: string; authorizedKey: string; machineName: string }): string {
  const etc = (p: string) => join(fs, "etc", p);
  const accounts = addSshUser({ passwd: readFileSync(etc("passwd"), "utf8"), group: readFileSync(etc("group"), "utf8"), shadow: readFileSync(etc("shadow"), "utf8") }, o.user);
  writeFileSync(etc("passwd"), accounts.files.passwd);
  writeFileSync(etc("group"), accounts.files.group);
  writeFileSync(etc("shadow"), accounts.files.shadow);
  const home = join(fs, "home", o.user);
  mkdirSync(join(home, ".ssh"), { recursive: true });
  writeFileSync(join(home, ".ssh", "authorized_keys"), o.authorizedKey.trim() + "\n");
  for (const p of [home, join(home, ".ssh"), join(home, ".ssh", "authorized_keys")]) chownSync(p, accounts.uid, accounts.gid);
  chmodSync(home, 0o755);
  chmodSync(join(home, ".ssh"), 0o700);
  chmodSync(join(home, ".ssh", "authorized_keys"), 0o600);

  mkdirSync(join(fs, "etc/ssh"), { recursive: true });
  const hostKey = join(fs, SSH_HOST_KEY_PATH);
  rmSync(hostKey, { force: true });
  rmSync(`${hostKey}.pub`, { force: true });
  execFileSync(SSH_KEYGEN, ["-q", "-t", "ed25519", "-N", "", "-C", `root@${o.machineName}`, "-f", hostKey]);
  writeFileSync(join(fs, SSHD_CONFIG_PATH), sshdConfigText({ address: o.address, port: o.port, user: o.user }));
  writeFileSync(join(fs, SSHD_UNIT_PATH), sshdUnitText());
  const wants = join(fs, "etc/systemd/system/multi-user.target.wants", SSHD_UNIT);
  rmSync(wants, { force: true });
  symlinkSync(`/etc/systemd/system/${SSHD_UNIT}`, wants);
  return readFileSync(`${hostKey}.pub`, "utf8").trim();
}

/** The cluster's public key, for authorized_keys. */
export function clusterPublicKey(s: ClusterSsh): string {
  return readFileSync(`${s.keyFile}.pub`, "utf8").trim();
}

/** Trusts a machine's host key in the cluster's known_hosts (machines fleet-dev made). */
export function trustHostKey(s: ClusterSsh, address: string, hostPublicKey: string): void {
  appendFileSync(s.knownHostsFile, knownHostsLine(address, s.port, hostPublicKey));
}

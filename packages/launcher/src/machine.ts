// Sandbox machines: systemd-nspawn containers booting a real systemd (see docs/sandbox.md).
// Every function takes a plain MachineRecord, so a process that only has the JSON state
// file (fleet-dev down/exec/kill) can drive machines another process booted.
import { spawn, execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  AGENT_ALIAS_PATH,
  AGENT_ENV_PATH,
  AGENT_UNIT_PATH,
  FLEETCTL_PROFILE_PATH,
  fleetctlProfileText,
  FLEETCTL_PATH,
  CGROUP_HIERARCHIES,
  DEFAULT_BASE_DIR,
  MASKED_UNITS,
  agentEnvText,
  agentUnitText,
  launcherScript,
  machinePaths,
  machinePublicIp,
  newMachineId,
  nspawnArgs,
  parseNsPid,
  validateName,
  type AgentEnv,
} from "./machine-spec.js";
import { childrenOf, isAlive, logTail, signal, sleep, spawnLogged, waitFor, waitForExit, WaitAborted, type ProcRef } from "./proc.js";
import { repoRoot } from "./repo.js";
import { installSshd } from "./ssh.js";
import { installFleetctl } from "./machine-fleetctl.js";

export interface MachineRecord {
  name: string;
  cluster: string;
  index: number;
  machineId: string;
  publicIp: string;
  metadata: Record<string, string>;
  dir: string;
  fs: string;
  dbusDir: string;
  logFile: string;
  cgroupName: string;
  /** The nspawn process (set once booted). */
  nspawnPid?: number;
  nspawnStartTime?: string;
  /** The container's systemd as a host PID, as of the last boot (containerPid1() is live). */
  pid1?: number;
  /** sshd's host key ("ssh-ed25519 AAAA... root@<name>"), new with every fresh filesystem. */
  sshHostKey?: string;
}

export interface CreateMachineOptions {
  name: string;
  /** 1-based; gives the public IP <addressBlock>.<index>. */
  index: number;
  /** The cluster's address block (address-blocks.ts); default 127.0.1. */
  addressBlock?: string;
  cluster?: string;
  /** Machines live in <clusterDir>/<name>; default /var/tmp/fleet-dev/<cluster>. */
  clusterDir?: string;
  metadata?: Record<string, string>;
  machineId?: string;
  /** Install and enable the fleet agent unit with this environment. */
  agent?: Omit<AgentEnv, "publicIp" | "metadata">;
  /** Run sshd on the machine's address for this user, who logs in with this public key. */
  ssh?: { port: number; user: string; authorizedKey: string };
  /** Under mutual TLS: installs the machine's certificate in its filesystem (before boot). */
  installCertificate?: (machine: { machineId: string; publicIp: string; fsRoot: string }) => void;
}

function assertSafeDir(dir: string): void {
  const abs = resolve(dir);
  const parts = abs.split("/").filter(Boolean);
  if (parts.length < 3 || abs.startsWith("/tmp/") || abs.startsWith(repoRoot() + "/")) {
    throw new Error(`refusing to use ${abs} for a sandbox machine: choose a dir outside the repo and /tmp, e.g. ${DEFAULT_BASE_DIR}`);
  }
}

/** Builds the machine's root filesystem (per docs/sandbox.md) and returns its record. */
export function createMachineFs(o: CreateMachineOptions): MachineRecord {
  const cluster = o.cluster ?? "default";
  validateName("cluster", cluster);
  validateName("machine", o.name);
  const p = machinePaths(o.clusterDir ?? join(DEFAULT_BASE_DIR, cluster), cluster, o.name);
  assertSafeDir(p.dir);
  rmSync(p.fs, { recursive: true, force: true });
  const B = p.fs;
  for (const d of ["etc/systemd/system/multi-user.target.wants", "etc/fleet", "usr", "var/log/journal", "root", "tmp", "run", "opt/fleet"]) {
    mkdirSync(join(B, d), { recursive: true });
  }
  chmodSync(join(B, "tmp"), 0o1777);
  mkdirSync(p.dbusDir, { recursive: true });
  execFileSync("cp", ["-L", "/etc/os-release", join(B, "etc/os-release")]);
  const etcFiles = ["/etc/pam.d", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/nsswitch.conf", "/etc/dbus-1"].filter((f) => existsSync(f));
  execFileSync("cp", ["-a", ...etcFiles, join(B, "etc/")]);
  if (existsSync("/etc/localtime")) execFileSync("cp", ["-a", "/etc/localtime", join(B, "etc/")]);
  symlinkSync("/proc/self/mounts", join(B, "etc/mtab"));
  for (const l of ["bin", "lib", "lib64", "sbin"]) symlinkSync(`usr/${l}`, join(B, l));
  const machineId = o.machineId ?? newMachineId();
  writeFileSync(join(B, "etc/machine-id"), machineId + "\n");
  symlinkSync("/lib/systemd/system/multi-user.target", join(B, "etc/systemd/system/default.target"));
  for (const u of MASKED_UNITS) symlinkSync("/dev/null", join(B, "etc/systemd/system", u));
  const publicIp = machinePublicIp(o.index, o.addressBlock);
  const metadata = o.metadata ?? {};
  o.installCertificate?.({ machineId, publicIp, fsRoot: B });
  if (o.agent) {
    writeFileSync(join(B, AGENT_UNIT_PATH), agentUnitText());
    writeFileSync(join(B, AGENT_ENV_PATH), agentEnvText({ ...o.agent, publicIp, metadata }));
    symlinkSync("/etc/systemd/system/fleet-agent.service", join(B, "etc/systemd/system/multi-user.target.wants/fleet-agent.service"));
    symlinkSync("/etc/systemd/system/fleet-agent.service", join(B, AGENT_ALIAS_PATH));
    mkdirSync(join(B, "etc/profile.d"), { recursive: true });
    writeFileSync(join(B, FLEETCTL_PROFILE_PATH), fleetctlProfileText());
    installFleetctl(B, repoRoot());
  }
  const sshHostKey = o.ssh ? installSshd(B, { ...o.ssh, address: publicIp, machineName: o.name }) : undefined;
  return { name: o.name, cluster, index: o.index, machineId, publicIp, metadata, ...p, ...(sshHostKey ? { sshHostKey } : {}) };
}

export function nspawnRef(m: MachineRecord): ProcRef | undefined {
  return m.nspawnPid ? { pid: m.nspawnPid, startTime: m.nspawnStartTime } : undefined;
}

export function machineRunning(m: MachineRecord): boolean {
  const ref = nspawnRef(m);
  return !!ref && isAlive(ref);
}

/** Starts nspawn in the machine's own cgroups. Resolves with nspawnPid set (not yet booted). */
export async function bootMachine(m: MachineRecord, o: { detached?: boolean; repoRoot?: string } = {}): Promise<MachineRecord> {
  if (machineRunning(m)) throw new Error(`machine ${m.name} is already running (nspawn pid ${m.nspawnPid})`);
  removeCgroups(m.cgroupName);
  const args = nspawnArgs({ name: m.name, fs: m.fs, dbusDir: m.dbusDir, repoRoot: o.repoRoot ?? repoRoot() });
  rmSync(join(m.dbusDir, "system_bus_socket"), { force: true });
  const proc = await spawnLogged({ cmd: "/bin/bash", args: ["-c", launcherScript(m.cgroupName, args)], logFile: m.logFile, detached: o.detached });
  m.nspawnPid = proc.pid;
  m.nspawnStartTime = proc.startTime;
  delete m.pid1;
  return m;
}

/** The container's PID 1 (its systemd) as a host PID: the descendant of nspawn whose
 * innermost namespace PID is 1. */
export function containerPid1(m: MachineRecord): number | undefined {
  if (!machineRunning(m) || !m.nspawnPid) return undefined;
  const queue = [...childrenOf(m.nspawnPid)];
  for (let i = 0; i < queue.length && i < 64; i++) {
    const pid = queue[i]!;
    try {
      const ns = parseNsPid(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (ns.length >= 2 && ns[ns.length - 1] === 1) return pid;
    } catch {
      continue;
    }
    queue.push(...childrenOf(pid));
  }
  return undefined;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

const EXEC_ENV = {
  // fleetctl as installed on the machine (else from the bound repository).
  PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${FLEETCTL_PATH}`,
  LANG: "C.UTF-8",
  HOME: "/root",
  SYSTEMD_PAGER: "",
  SYSTEMD_COLORS: "0",
};

export function nsenterArgs(pid1: number, argv: string[]): string[] {
  return ["-t", String(pid1), "-a", "-r", "-w", "--", ...argv];
}

/** Runs argv inside the machine (all its namespaces, its root). */
export async function execInMachine(m: MachineRecord, argv: string[], o: { timeoutMs?: number } = {}): Promise<ExecResult> {
  const pid1 = containerPid1(m);
  if (!pid1) throw new Error(`machine ${m.name} is not running`);
  const child = spawn("/usr/bin/nsenter", nsenterArgs(pid1, argv), { env: EXEC_ENV, stdio: ["ignore", "pipe", "pipe"], timeout: o.timeoutMs ?? 30_000, killSignal: "SIGKILL" });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number>((res, rej) => {
    child.once("error", rej);
    child.once("close", (c, sig) => res(c ?? (sig ? 128 + 9 : 1)));
  });
  return { stdout, stderr, code };
}

/** Like execInMachine but with this process's stdio passed through; resolves the exit code. */
export async function execInMachineInteractive(m: MachineRecord, argv: string[]): Promise<number> {
  const pid1 = containerPid1(m);
  if (!pid1) throw new Error(`machine ${m.name} is not running`);
  const child = spawn("/usr/bin/nsenter", nsenterArgs(pid1, argv), { env: { ...EXEC_ENV, TERM: process.env.TERM ?? "dumb" }, stdio: "inherit" });
  return new Promise<number>((res, rej) => {
    child.once("error", rej);
    child.once("close", (c, sig) => res(c ?? (sig ? 128 + 9 : 1)));
  });
}

/** Waits for the system bus socket and `systemctl is-system-running` = running|degraded. */
export async function waitMachineReady(m: MachineRecord, timeoutMs = 60_000): Promise<string> {
  return waitFor(
    `machine ${m.name} to boot`,
    async () => {
      if (!machineRunning(m)) throw new WaitAborted(`machine ${m.name}: nspawn exited\n--- ${m.logFile} ---\n${logTail(m.logFile)}`);
      if (!existsSync(join(m.dbusDir, "system_bus_socket"))) return false;
      const r = await execInMachine(m, ["systemctl", "is-system-running"], { timeoutMs: 5_000 });
      const state = r.stdout.trim();
      if (state !== "running" && state !== "degraded") return false;
      m.pid1 = containerPid1(m);
      return state;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** "Machine lost power": SIGKILL the container's PID 1; everything inside dies with it. */
export async function killMachine(m: MachineRecord, timeoutMs = 15_000): Promise<void> {
  const ref = nspawnRef(m);
  if (ref && isAlive(ref)) {
    const pid1 = containerPid1(m);
    if (pid1) process.kill(pid1, "SIGKILL");
    if (!(await waitForExit(ref, timeoutMs))) {
      signal(ref, "SIGKILL");
      await waitForExit(ref, 5_000);
    }
  }
  await removeCgroupsWhenEmpty(m.cgroupName);
}

/** Clean poweroff: SIGTERM to nspawn (systemd shuts down), SIGKILL PID 1 after graceMs. */
export async function stopMachine(m: MachineRecord, graceMs = 30_000): Promise<void> {
  const ref = nspawnRef(m);
  if (ref && isAlive(ref)) {
    signal(ref, "SIGTERM");
    if (!(await waitForExit(ref, graceMs))) {
      await killMachine(m);
      return;
    }
  }
  await removeCgroupsWhenEmpty(m.cgroupName);
}

/** Stop, then remove the machine's directory and cgroups. */
export async function destroyMachine(m: MachineRecord, graceMs = 30_000): Promise<void> {
  await stopMachine(m, graceMs);
  if (machineRunning(m)) throw new Error(`machine ${m.name} is still running; not removing ${m.dir}`);
  assertSafeDir(m.dir);
  rmSync(m.dir, { recursive: true, force: true });
  try {
    rmdirSync(dirname(m.dir)); // the cluster dir, if now empty
  } catch {
    /* not empty or gone */
  }
}

/** rmdir the machine's cgroup trees, deepest first. Returns the dirs that could not go. */
export function removeCgroups(cgroupName: string): string[] {
  const left: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) walk(join(dir, e));
    try {
      rmdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") left.push(dir);
    }
  };
  for (const h of CGROUP_HIERARCHIES) walk(join(h, cgroupName));
  return left;
}

async function removeCgroupsWhenEmpty(cgroupName: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = removeCgroups(cgroupName);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`cgroups still busy after ${timeoutMs} ms: ${left.join(", ")}`);
    await sleep(100);
  }
}

export function cgroupsExist(cgroupName: string): boolean {
  return CGROUP_HIERARCHIES.some((h) => existsSync(join(h, cgroupName)));
}


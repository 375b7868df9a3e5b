// Cuts one sandbox machine off the network and restores it, with the rules of
// partition-rules.ts. The machine, its agent and its units keep running; only their traffic
// (and traffic to the machine's IP) is refused.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import type { MachineRecord } from "./machine.js";
import { machineRunning } from "./machine.js";
import {
  chainExistsCommand,
  emptyFilterTables,
  healRestoreInput,
  partitionChainName,
  partitionHealCommands,
  partitionRestoreInput,
  type IptablesBin,
  type IptablesCommand,
} from "./partition-rules.js";

const FAMILIES: readonly IptablesBin[] = ["iptables", "ip6tables"];

/** A partition as the state file records it. */
export interface PartitionRecord {
  machine: string;
  chain: string;
  /** Relative to the cgroup2 root, as given to xt_cgroup --path. */
  cgroupPath: string;
  ip: string;
  appliedAt: string;
  /** The boot the rules were made for: a rebooted machine has a new cgroup, the rules must
   * be made again (xt_cgroup binds the cgroup that exists at insert time). */
  nspawnPid?: number;
  nspawnStartTime?: string;
}

interface RunResult {
  code: number;
  stderr: string;
}

const SBIN = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

function binary(name: string): string | undefined {
  for (const d of SBIN) if (existsSync(`${d}/${name}`)) return `${d}/${name}`;
  return undefined;
}

function requireBinary(name: string): string {
  const p = binary(name);
  if (!p) throw new Error(`${name} is missing: install the Debian package iptables (scripts/install.sh does)`);
  return p;
}

function run(path: string, args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<RunResult & { stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(path, args, { timeout: o.timeoutMs ?? 10_000, env: { PATH: SBIN.join(":"), LANG: "C" } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr.trim() || (err && typeof err.code !== "number" ? err.message : "") });
    });
    child.stdin?.on("error", () => {}); // a command that exits before reading: its exit code tells
    child.stdin?.end(o.input ?? "");
  });
}

const runCmd = (c: IptablesCommand) => run(requireBinary(c.bin), c.args);

async function chainIn(chain: string): Promise<boolean[]> {
  return Promise.all(FAMILIES.map(async (bin) => (await runCmd(chainExistsCommand(bin, chain))).code === 0));
}

/** The chain is there in both families. */
export async function chainExists(chain: string): Promise<boolean> {
  return (await chainIn(chain)).every(Boolean);
}

/** Unhooks and deletes the chain in both families (in parallel, one transaction each; step
 * by step where that fails but the chain is there, e.g. a jump inserted twice by hand).
 * True if it existed. */
export async function healChain(chain: string): Promise<boolean> {
  const steps = partitionHealCommands(chain);
  const existed = await Promise.all(
    FAMILIES.map(async (bin) => {
      if ((await run(requireBinary(`${bin}-restore`), ["-w", "--noflush"], { input: healRestoreInput(chain) })).code === 0) return true;
      if ((await runCmd(chainExistsCommand(bin, chain))).code !== 0) return false;
      for (const step of steps.filter((x) => x.bin === bin)) {
        for (let i = 0; i < 16; i++) {
          if ((await runCmd(step)).code !== 0 || !step.repeat) break;
        }
      }
      if ((await runCmd(chainExistsCommand(bin, chain))).code === 0) throw new Error(`could not remove ${bin} chain ${chain}: is it used elsewhere?`);
      return true;
    }),
  );
  return existed.some(Boolean);
}

let nftBackend: Promise<boolean> | undefined;

/** iptables-nft leaves empty `ip filter` / `ip6 filter` tables behind; delete them only when
 * they hold nothing at all (so deleting changes nothing, whoever made them). */
export async function dropEmptyNftTables(): Promise<void> {
  const nft = binary("nft");
  const ipt = binary("iptables");
  if (!nft || !ipt) return;
  nftBackend ??= run(ipt, ["--version"]).then((r) => r.stdout.includes("nf_tables"));
  if (!(await nftBackend)) return;
  const r = await run(nft, ["-j", "list", "ruleset"]);
  if (r.code !== 0) return;
  const empty = emptyFilterTables(r.stdout);
  if (empty.length > 0) await run(nft, ["-f", "-"], { input: empty.map((f) => `delete table ${f} filter\n`).join("") });
}

export interface PartitionResult {
  record: PartitionRecord;
  /** Already in place for this boot of the machine: nothing was done. */
  already: boolean;
  ms: number;
}

/** Partitions a running machine. Idempotent: rules already made for this boot are kept;
 * stale ones (an earlier boot) are replaced. */
export async function partitionMachine(m: MachineRecord, existing?: PartitionRecord): Promise<PartitionResult> {
  const t0 = performance.now();
  if (!machineRunning(m)) throw new Error(`machine ${m.name} is not running: restart it first`);
  const chain = partitionChainName(m.cluster, m.name);
  if (existing && existing.nspawnPid === m.nspawnPid && existing.nspawnStartTime === m.nspawnStartTime && (await chainExists(chain))) {
    return { record: existing, already: true, ms: performance.now() - t0 };
  }
  if ((await chainIn(chain)).some(Boolean)) await healChain(chain); // stale (an earlier boot)
  const record: PartitionRecord = {
    machine: m.name,
    chain,
    cgroupPath: m.cgroupName,
    ip: m.publicIp,
    appliedAt: new Date().toISOString(),
    ...(m.nspawnPid !== undefined ? { nspawnPid: m.nspawnPid } : {}),
    ...(m.nspawnStartTime !== undefined ? { nspawnStartTime: m.nspawnStartTime } : {}),
  };
  const target = { chain, cgroupPath: record.cgroupPath, ip: record.ip };
  // One transaction per family (iptables-restore), both families at once.
  const results = await Promise.all(FAMILIES.map((bin) => run(requireBinary(`${bin}-restore`), ["-w", "--noflush"], { input: partitionRestoreInput(target, bin) })));
  const failed = results.map((r, i) => ({ ...r, bin: FAMILIES[i]! })).filter((r) => r.code !== 0);
  if (failed.length > 0) {
    await healChain(chain).catch(() => false);
    const f = failed[0]!;
    throw new Error(`partition of ${m.name}: ${f.bin}-restore failed (exit ${f.code}): ${f.stderr}${f.code === 4 ? ` (is cgroup ${record.cgroupPath} there?)` : ""}`);
  }
  return { record, already: false, ms: performance.now() - t0 };
}

/** Removes a partition's rules (chain from partitionChainName). wasPartitioned: any existed.
 * ms: until traffic flows again (the tidying of empty nft tables after it is not counted). */
export async function healPartition(chain: string): Promise<{ wasPartitioned: boolean; ms: number }> {
  const t0 = performance.now();
  const wasPartitioned = await healChain(chain);
  const ms = performance.now() - t0;
  if (wasPartitioned) await dropEmptyNftTables();
  return { wasPartitioned, ms };
}

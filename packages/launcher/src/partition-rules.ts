// The iptables rules that cut one sandbox machine off (docs/sandbox.md, "Partitioning one
// machine"). Pure: names and command lines only; partition.ts runs them.
//
// Machines share the host's network namespace, so the cut is made by the machine's cgroup
// (every process inside it: systemd, agent, units) plus its public IP (the host completes
// handshakes to the machine's listening ports from sockets xt_cgroup does not see).
// OUTPUT only: INPUT rules never match on loopback. New connections are refused with a
// TCP reset (dropped SYNs back off for tens of seconds, which would slow the heal down).
import { createHash } from "node:crypto";

/** iptables' longest chain name (XT_EXTENSION_MAXNAMELEN - 1). */
export const MAX_CHAIN_NAME = 28;
export const CHAIN_PREFIX = "FLEET-";

/** The chain of one machine of one cluster: FLEET-<cluster>-<machine>, or, when that is too
 * long for iptables, FLEET-<hash of both>-<machine> cut to 28 characters (still unique). */
export function partitionChainName(cluster: string, machine: string): string {
  const plain = `${CHAIN_PREFIX}${cluster}-${machine}`;
  if (plain.length <= MAX_CHAIN_NAME) return plain;
  const hash = createHash("sha256").update(`${cluster}\0${machine}`).digest("hex").slice(0, 8);
  return `${CHAIN_PREFIX}${hash}-${machine}`.slice(0, MAX_CHAIN_NAME);
}

export type IptablesBin = "iptables" | "ip6tables";

export interface IptablesCommand {
  bin: IptablesBin;
  args: string[];
}

export interface PartitionTarget {
  chain: string;
  /** The machine's cgroup, relative to the cgroup2 root (xt_cgroup matches descendants). */
  cgroupPath: string;
  /** The machine's public IPv4 address. */
  ip: string;
}

const reset = ["-p", "tcp", "--syn", "-j", "REJECT", "--reject-with", "tcp-reset"];

/** The rules of one family, in order: the chain's rules, then the jump first in OUTPUT. */
export function partitionRules(t: PartitionTarget, bin: IptablesBin): string[][] {
  const cg = ["-m", "cgroup", "--path", t.cgroupPath];
  return [
    ["-A", t.chain, ...cg, ...reset],
    ["-A", t.chain, ...cg, "-j", "DROP"],
    ...(bin === "iptables"
      ? [
          ["-A", t.chain, "-d", t.ip, ...reset],
          ["-A", t.chain, "-d", t.ip, "-j", "DROP"],
        ]
      : []),
    ["-I", "OUTPUT", "1", "-j", t.chain],
  ];
}

/** Input for `iptables-restore --noflush` (resp. ip6tables-restore) that creates the chain
 * and hooks it in one transaction: a partition is never half made. IPv6 gets the cgroup
 * rules only (the machine's IP is IPv4). */
export function partitionRestoreInput(t: PartitionTarget, bin: IptablesBin): string {
  const quote = (a: string) => (/^[A-Za-z0-9_.:/-]+$/.test(a) ? a : `"${a}"`);
  return ["*filter", `:${t.chain} - [0:0]`, ...partitionRules(t, bin).map((r) => r.map(quote).join(" ")), "COMMIT", ""].join("\n");
}

export interface HealStep extends IptablesCommand {
  /** Run again until it fails (a jump inserted twice needs two deletes). */
  repeat: boolean;
}

/** Commands that unhook and delete the chain. Each may fail when that part is already gone. */
export function partitionHealCommands(chain: string): HealStep[] {
  return (["iptables", "ip6tables"] as const).flatMap((bin) => [
    { bin, args: ["-w", "-D", "OUTPUT", "-j", chain], repeat: true },
    { bin, args: ["-w", "-F", chain], repeat: false },
    { bin, args: ["-w", "-X", chain], repeat: false },
  ]);
}

/** The command that tells whether the chain exists (exit code 0) in one family. */
export function chainExistsCommand(bin: IptablesBin, chain: string): IptablesCommand {
  return { bin, args: ["-w", "-n", "-L", chain] };
}

/** Input for `iptables-restore --noflush` that unhooks and deletes the chain in one
 * transaction (it fails as a whole when the chain is not there). */
export function healRestoreInput(chain: string): string {
  return ["*filter", `-D OUTPUT -j ${chain}`, `-F ${chain}`, `-X ${chain}`, "COMMIT", ""].join("\n");
}

/** Given `nft -j list ruleset`: the families ("ip", "ip6") whose `filter` table holds no rule
 * and only base chains that accept, i.e. deleting it changes nothing. iptables-nft leaves
 * such tables behind once the last rule is gone. */
export function emptyFilterTables(rulesetJson: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(rulesetJson);
  } catch {
    return [];
  }
  const items = (doc as { nftables?: unknown }).nftables;
  if (!Array.isArray(items)) return [];
  const tables = new Map<string, boolean>(); // family -> still empty
  const inFilter = (o: { family?: unknown; table?: unknown }) => (o.table === "filter" && (o.family === "ip" || o.family === "ip6") ? o.family : undefined);
  for (const item of items as Record<string, Record<string, unknown> | undefined>[]) {
    const t = item.table;
    if (t && t.name === "filter" && (t.family === "ip" || t.family === "ip6")) {
      if (!tables.has(t.family)) tables.set(t.family, true);
      continue;
    }
    for (const kind of ["chain", "rule", "set", "map", "flowtable", "counter", "quota", "limit", "ct helper", "element"]) {
      const o = item[kind];
      if (!o) continue;
      const family = inFilter(o);
      if (!family) continue;
      const fine = kind === "chain" && typeof o.hook === "string" && o.policy === "accept";
      if (!fine) tables.set(family, false);
    }
  }
  return [...tables].filter(([, empty]) => empty).map(([family]) => family).sort();
}

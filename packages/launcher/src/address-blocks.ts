// Each sandbox cluster's machines get addresses of their own: a /24 block of loopback,
// 127.0.<b>.1..254 (127.0.1.x first). Machines share the host's network namespace, so two
// clusters up at once (a dev cluster and an e2e test, two helpers' tests) would otherwise both
// have 127.0.1.1: one sshd could not listen there, and partitioning one cluster's m1 (rules on
// its address) would cut the other's too. A block is claimed with a file created exclusively
// in CLAIMS_DIR, naming the cluster's state dir, and given back when the cluster is down.
import { mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, closeSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_BASE_DIR } from "./machine-spec.js";
import { anyAlive, readState, type ClusterState } from "./state.js";

export const CLAIMS_DIR = join(DEFAULT_BASE_DIR, ".address-blocks");
/** State files written before blocks existed: their machines are on 127.0.1.x. */
export const DEFAULT_ADDRESS_BLOCK = "127.0.1";

export interface BlockClaim {
  block: string;
  stateDir: string;
  cluster: string;
  claimedAt: string;
}

/** Blocks in the order they are tried. Pure. */
export function addressBlocks(): string[] {
  return Array.from({ length: 254 }, (_, i) => `127.0.${i + 1}`);
}

/** What the owner of a claim looks like now, as far as claims care. */
export type OwnerView = { kind: "gone" } | { kind: "present"; block: string | undefined; status: ClusterState["status"]; alive: boolean; createdAtMs: number };

/** A claim whose cluster is gone (no state file a minute after the claim, a state on another
 * block, or nothing of it running and not starting) may be taken over. A cluster still
 * starting keeps its block for ten minutes even with nothing running yet. Pure. */
export function claimIsStale(claim: BlockClaim, owner: OwnerView, nowMs: number): boolean {
  // A cluster claims its block just before it writes its state file: give it a minute.
  if (owner.kind === "gone") return nowMs - (Date.parse(claim.claimedAt) || 0) > 60_000;
  if ((owner.block ?? DEFAULT_ADDRESS_BLOCK) !== claim.block) return true;
  if (owner.alive) return false;
  if (owner.status === "starting") return nowMs - owner.createdAtMs > 10 * 60_000;
  return true;
}

function ownerView(stateDir: string): OwnerView {
  let s: ClusterState | undefined;
  try {
    s = readState(stateDir);
  } catch {
    return { kind: "gone" };
  }
  if (!s) return { kind: "gone" };
  return { kind: "present", block: s.addressBlock, status: s.status, alive: anyAlive(s), createdAtMs: Date.parse(s.createdAt) || 0 };
}

function readClaim(file: string): BlockClaim | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as BlockClaim;
  } catch {
    return undefined;
  }
}

/**
 * Claims the first free block for the cluster in stateDir (its own claim again if it has one)
 * and returns it. Stale claims are taken over. A block `usable` refuses (something that made
 * no claim listens there) is given back and skipped. Throws when none is left.
 */
export async function claimAddressBlock(stateDir: string, cluster: string, o: { dir?: string; usable?: (block: string) => Promise<boolean> } = {}): Promise<string> {
  const dir = o.dir ?? CLAIMS_DIR;
  mkdirSync(dir, { recursive: true });
  for (const block of addressBlocks()) {
    const got = claimOne(dir, block, stateDir, cluster);
    if (!got) continue;
    if (!o.usable || (await o.usable(block))) return block;
    releaseAddressBlock(stateDir, block, dir);
  }
  throw new Error(`no sandbox address block (127.0.1-254.x) is free: see the claims in ${dir}; stop some clusters (fleet-dev down)`);
}

/** Claims one block (or finds it already ours); false when another cluster holds it. */
function claimOne(dir: string, block: string, stateDir: string, cluster: string): boolean {
  const file = join(dir, block);
  const claim: BlockClaim = { block, stateDir, cluster, claimedAt: new Date().toISOString() };
  try {
    const fd = openSync(file, "wx");
    try {
      writeFileSync(fd, JSON.stringify(claim) + "\n");
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const held = readClaim(file);
  if (held?.stateDir === stateDir) return true;
  // A claim being written this very moment reads as nothing: leave it to its writer.
  if (!held) return false;
  if (!claimIsStale(held, ownerView(held.stateDir), Date.now())) return false;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(claim) + "\n");
  renameSync(tmp, file);
  // Two takers of one stale claim: the last rename wins, the other moves on.
  return readClaim(file)?.stateDir === stateDir;
}

/** Gives back the cluster's block, if it still holds it. */
export function releaseAddressBlock(stateDir: string, block: string, dir = CLAIMS_DIR): void {
  const file = join(dir, block);
  if (readClaim(file)?.stateDir === stateDir) rmSync(file, { force: true });
}

/** Every claim in dir, for status and tests. */
export function addressClaims(dir = CLAIMS_DIR): BlockClaim[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => /^127\.0\.\d+$/.test(n));
  } catch {
    return [];
  }
  return names.map((n) => readClaim(join(dir, n))).filter((c): c is BlockClaim => c !== undefined);
}

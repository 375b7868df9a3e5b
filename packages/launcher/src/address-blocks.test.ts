import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addressBlocks, addressClaims, claimAddressBlock, claimIsStale, releaseAddressBlock, type BlockClaim, type OwnerView } from "./address-blocks.js";
import { procStartTime } from "./proc.js";
import { writeState, type ClusterState } from "./state.js";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const claim: BlockClaim = { block: "127.0.2", stateDir: "/s", cluster: "c", claimedAt: new Date(NOW - 5_000).toISOString() };
const present = (o: Partial<Extract<OwnerView, { kind: "present" }>>): OwnerView => ({ kind: "present", block: "127.0.2", status: "up", alive: true, createdAtMs: NOW - 5_000, ...o });

describe("claimIsStale", () => {
  const cases: [string, BlockClaim, OwnerView, boolean][] = [
    ["a cluster that is up keeps its block", claim, present({}), false],
    ["a cluster starting with nothing running yet keeps it", claim, present({ status: "starting", alive: false }), false],
    ["...but not for ever", claim, present({ status: "starting", alive: false, createdAtMs: NOW - 11 * 60_000 }), true],
    ["a cluster that is down (state kept, nothing running) gives it up", claim, present({ status: "failed", alive: false }), true],
    ["a cluster now on another block gives it up", claim, present({ block: "127.0.3" }), true],
    ["an older state file means 127.0.1", { ...claim, block: "127.0.1" }, present({ block: undefined }), false],
    ["no state file yet, a moment after the claim: the cluster is being written", claim, { kind: "gone" }, false],
    ["no state file a minute later: gone", { ...claim, claimedAt: new Date(NOW - 61_000).toISOString() }, { kind: "gone" }, true],
  ];
  for (const [what, c, owner, stale] of cases) it(what, () => expect(claimIsStale(c, owner, NOW)).toBe(stale));
});

describe("claimAddressBlock", () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), "fleet-blocks-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  const upState = (stateDir: string, block: string): ClusterState => ({
    version: 1,
    cluster: "x",
    stateDir,
    repoRoot: "/r",
    createdAt: new Date().toISOString(),
    detached: false,
    status: "up",
    agentTtlSeconds: 5,
    reconcileIntervalSeconds: 5,
    addressBlock: block,
    endpoints: {},
    // This process is alive: the cluster counts as running.
    components: [{ name: "api", kind: "api", pid: process.pid, startTime: procStartTime(process.pid) ?? "", logFile: "/l", argv: [] }],
    machines: [],
  });

  it("gives 127.0.1 first, the next block to another cluster, the same block to the same cluster, and takes back released ones", async () => {
    const claims = tmp();
    const a = join(tmp(), "a");
    const b = join(tmp(), "b");
    expect(await claimAddressBlock(a, "a", { dir: claims })).toBe("127.0.1");
    writeState(upState(a, "127.0.1"));
    expect(await claimAddressBlock(b, "b", { dir: claims })).toBe("127.0.2");
    expect(await claimAddressBlock(a, "a", { dir: claims })).toBe("127.0.1");
    expect(addressClaims(claims).map((c) => [c.block, c.cluster]).sort()).toEqual([["127.0.1", "a"], ["127.0.2", "b"]]);
    releaseAddressBlock(a, "127.0.1", claims);
    releaseAddressBlock(a, "127.0.2", claims); // not a's: kept
    expect(addressClaims(claims).map((c) => c.block)).toEqual(["127.0.2"]);
    expect(await claimAddressBlock(join(tmp(), "c"), "c", { dir: claims })).toBe("127.0.1");
  });

  it("takes over the claim of a cluster that is gone", async () => {
    const claims = tmp();
    writeFileSync(join(claims, "127.0.1"), JSON.stringify({ block: "127.0.1", stateDir: "/nowhere", cluster: "old", claimedAt: "2020-01-01T00:00:00Z" }));
    const d = join(tmp(), "d");
    expect(await claimAddressBlock(d, "d", { dir: claims })).toBe("127.0.1");
    expect(addressClaims(claims)).toEqual([expect.objectContaining({ block: "127.0.1", stateDir: d })]);
  });

  it("skips a block something else listens in (usable says no), and gives it back", async () => {
    const claims = tmp();
    const e = join(tmp(), "e");
    expect(await claimAddressBlock(e, "e", { dir: claims, usable: async (b) => b !== "127.0.1" })).toBe("127.0.2");
    expect(addressClaims(claims).map((c) => c.block)).toEqual(["127.0.2"]);
  });

  it("tries 254 blocks, 127.0.1 to 127.0.254", () => {
    expect(addressBlocks()).toHaveLength(254);
    expect(addressBlocks()[0]).toBe("127.0.1");
    expect(addressBlocks().at(-1)).toBe("127.0.254");
  });
});

import { describe, expect, it } from "vitest";
import { CLAIM_AFTER, HeartbeatDeadlines, renewBelowMs, ttlFromGrantedSeconds } from "./heartbeat-deadlines.js";

const M = "m1";
const TTL = 5_000;

describe("HeartbeatDeadlines", () => {
  const cases: Array<{ name: string; heard: number[]; now: number; overdue: boolean }> = [
    { name: "heard once, before agent_ttl", heard: [0], now: 4_999, overdue: false },
    { name: "heard once, agent_ttl later", heard: [0], now: 5_000, overdue: true },
    { name: "the last heartbeat counts", heard: [0, 1_600, 3_300], now: 8_000, overdue: false },
    { name: "silent for agent_ttl after the last", heard: [0, 1_600, 3_300], now: 8_300, overdue: true },
  ];
  it.each(cases)("$name → overdue $overdue", ({ heard, now, overdue }) => {
    const d = new HeartbeatDeadlines();
    for (const at of heard) d.heard(M, "7", TTL, at);
    expect(d.overdue(now).map((t) => t.leaseId)).toEqual(overdue ? ["7"] : []);
  });

  const claims: Array<{ name: string; heard: Array<[string, number]>; claim: boolean }> = [
    { name: "the first heartbeat heard claims", heard: [[M, 0]], claim: true },
    { name: "one on schedule (agent_ttl/3) does not", heard: [[M, 0], [M, 1_667]], claim: false },
    { name: `one after a gap over ${CLAIM_AFTER} agent_ttl does (the agent was elsewhere)`, heard: [[M, 0], [M, 2_600]], claim: true },
    { name: "another machine under the same lease does", heard: [[M, 0], ["m2", 100]], claim: true },
  ];
  it.each(claims)("$name", ({ heard, claim }) => {
    const d = new HeartbeatDeadlines();
    let last = { claim: false };
    for (const [m, at] of heard) last = d.heard(m, "7", TTL, at);
    expect(last.claim).toBe(claim);
  });

  it("a heartbeat heard too late to answer moves the deadline on, only for a machine heard on schedule", () => {
    const d = new HeartbeatDeadlines();
    d.heard(M, "7", TTL, 0);
    d.refresh(M, "7", 1_600);
    expect(d.get("7")?.deadline).toBe(6_600);
    d.refresh("m2", "7", 2_000);
    d.refresh(M, "8", 2_000);
    d.refresh(M, "7", 5_000);
    expect(d.get("7")?.deadline).toBe(6_600);
    expect(d.get("8")).toBeUndefined();
  });

  it("a grace gives every machine at least a full agent_ttl from then", () => {
    const d = new HeartbeatDeadlines();
    d.heard(M, "7", TTL, 0);
    d.heard("m2", "8", 30_000, 0);
    d.grace(4_000);
    expect(d.get("7")?.deadline).toBe(9_000);
    expect(d.get("8")?.deadline).toBe(34_000);
    expect(d.overdue(8_999)).toEqual([]);
  });

  it("forgets a lease, and orders overdue machines by deadline", () => {
    const d = new HeartbeatDeadlines();
    d.heard("a", "1", TTL, 200);
    d.heard("b", "2", TTL, 100);
    d.heard("c", "3", TTL, 0);
    d.forget("3");
    expect(d.overdue(10_000).map((t) => t.machineId)).toEqual(["b", "a"]);
  });

  it("renews less than once per agent_ttl (every fourth heartbeat), the lease keeps at least 2/3 agent_ttl", () => {
    // Leases granted for 2 × agent_ttl; heartbeats every agent_ttl/3 (at their earliest, 0.9 of it).
    for (const period of [TTL / 3, 0.9 * (TTL / 3)]) {
      let expiresAt = 2 * TTL;
      let renewals = 0;
      let least = Number.POSITIVE_INFINITY;
      for (let at = period; at <= 60_000; at += period) {
        least = Math.min(least, expiresAt - at);
        if (expiresAt < at + renewBelowMs(TTL)) {
          expiresAt = at + 2 * TTL;
          renewals++;
        }
      }
      expect(renewals).toBeLessThanOrEqual(60_000 / TTL);
      expect(least).toBeGreaterThanOrEqual((2 / 3) * TTL - 1);
    }
  });

  it("reads agent_ttl from a lease's granted TTL", () => {
    expect(ttlFromGrantedSeconds(10)).toBe(5_000);
  });
});

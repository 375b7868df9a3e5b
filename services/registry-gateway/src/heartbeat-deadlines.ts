// When each machine this gateway hears heartbeats from is due to be declared silent, and when
// its lease must be renewed in etcd. Pure: times are milliseconds of one monotonic clock, given
// by the caller.
//
// Heartbeats and lease renewals are decoupled (docs/architecture.md, "Liveness and failure"):
//
//   - an agent heart-beats every agent_ttl/3; its lease is granted for LEASE_TTL_FACTOR ×
//     agent_ttl, and renewed only when it would otherwise live less than RENEW_BELOW × agent_ttl
//     past the heartbeat (what an agent counts on after a heartbeat: its lease lives agent_ttl
//     from when it sent it): every fourth heartbeat, about once per 1.25 agent_ttl, so etcd sees
//     fewer than machines / agent_ttl keep-alives a second, and three heartbeats in four cost
//     no etcd request;
//   - the gateway declares a machine silent agent_ttl after the last heartbeat it heard (its
//     deadline) and revokes the lease then, so a dead machine is still lost after agent_ttl;
//     etcd's own lapse, up to 2 × agent_ttl after the last renewal, is the backstop for a gateway
//     that died;
//   - a heartbeat that starts a gateway's tracking of a machine, or comes after a gap of more than
//     CLAIM_AFTER × agent_ttl (the agent failed over, or had trouble), *claims* the machine: the
//     gateway writes its id to the machine's heartbeat claim key (under the same lease) and renews
//     at once. A gateway whose deadline passes revokes only when the claim is still its own (or
//     nobody's): an agent that moved to another gateway is never declared silent by the old one.

/** The lease a machine is registered under is granted for this many agent_ttl. */
export const LEASE_TTL_FACTOR = 2;
/** A heartbeat renews the lease when it would otherwise live less than this many agent_ttl. */
export const RENEW_BELOW = 1;
/** A heartbeat more than this many agent_ttl after the previous one heard re-claims the machine. */
export const CLAIM_AFTER = 1 / 2;

export interface Tracked {
  readonly machineId: string;
  readonly leaseId: string;
  readonly ttlMs: number;
  /** When the last heartbeat was heard. */
  readonly heardAt: number;
  /** heardAt + ttlMs, or later after a grace. */
  readonly deadline: number;
}

export interface Heard {
  /** This heartbeat claims the machine (write the claim, renew at once). */
  readonly claim: boolean;
  /** The first heartbeat of this machine under this lease the table heard (or after a forget). */
  readonly firstHeard: boolean;
}

export class HeartbeatDeadlines {
  private readonly byLease = new Map<string, Tracked>();

  /** A heartbeat (or registration) for `leaseId` was heard at `now`. */
  heard(machineId: string, leaseId: string, ttlMs: number, now: number): Heard {
    const before = this.byLease.get(leaseId);
    const firstHeard = before === undefined || before.machineId !== machineId;
    const claim = firstHeard || now - before.heardAt > CLAIM_AFTER * before.ttlMs;
    this.byLease.set(leaseId, { machineId, leaseId, ttlMs, heardAt: now, deadline: Math.max(now + ttlMs, before?.deadline ?? 0) });
    return { claim, firstHeard };
  }

  /**
   * A heartbeat heard but not served (it came too late to answer): moves the deadline on only for
   * a machine tracked here and heard within CLAIM_AFTER × agent_ttl (no claim is made for it).
   */
  refresh(machineId: string, leaseId: string, now: number): void {
    const t = this.byLease.get(leaseId);
    if (!t || t.machineId !== machineId || now - t.heardAt > CLAIM_AFTER * t.ttlMs) return;
    this.byLease.set(leaseId, { ...t, heardAt: now, deadline: Math.max(now + t.ttlMs, t.deadline) });
  }

  /** Stops tracking a lease (revoked, gone, or claimed by another gateway). */
  forget(leaseId: string): void {
    this.byLease.delete(leaseId);
  }

  get(leaseId: string): Tracked | undefined {
    return this.byLease.get(leaseId);
  }

  /** Machines whose deadline has passed, oldest deadline first. */
  overdue(now: number): Tracked[] {
    const out: Tracked[] = [];
    for (const t of this.byLease.values()) if (t.deadline <= now) out.push(t);
    return out.sort((a, b) => a.deadline - b.deadline);
  }

  /**
   * The gateway could not trust what it heard (it lost etcd):
   * every machine gets at least a full agent_ttl from `now`, as the engine gives after a gap in
   * its view.
   */
  grace(now: number): void {
    for (const [id, t] of this.byLease) this.byLease.set(id, { ...t, deadline: Math.max(t.deadline, now + t.ttlMs) });
  }

  /** Moves every deadline on by `ms` (time that does not count towards silence). */
  postpone(ms: number): void {
    for (const [id, t] of this.byLease) this.byLease.set(id, { ...t, deadline: t.deadline + ms });
  }

  get size(): number {
    return this.byLease.size;
  }
}

/** How long a lease must surely live past a heartbeat for the heartbeat to skip renewing it. */
export function renewBelowMs(ttlMs: number): number {
  return RENEW_BELOW * ttlMs;
}

/** The agent_ttl a lease was granted for, from its granted TTL. */
export function ttlFromGrantedSeconds(grantedSeconds: number): number {
  return (grantedSeconds * 1000) / LEASE_TTL_FACTOR;
}

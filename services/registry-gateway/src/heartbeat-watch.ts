// The gateway's side of machine liveness: it hears agents' heartbeats, renews their leases only
// as often as heartbeat-deadlines.ts says (every fourth heartbeat), and revokes the
// lease of a machine it has not heard for agent_ttl, unless another gateway claimed the machine
// since or the lease was renewed by someone else. Declares nothing while it cannot trust its own
// view: etcd unreachable (a fresh agent_ttl for every machine once it follows again), or its
// event loop stalled (that time does not count towards silence). The time its event loop lags
// (a sweep that runs late) does not count either: heartbeats may have waited that long unread.
import type { Logger } from "@fleet/wire";
import { HeartbeatDeadlines, renewBelowMs, ttlFromGrantedSeconds, type Tracked } from "./heartbeat-deadlines.js";
import type { Keys } from "./keys.js";
import { mapLimit } from "./map-limit.js";
import type { RegistryStore } from "./registry-store.js";
import { put } from "./etcd-ops.js";

/** How often deadlines are looked at. */
export const SWEEP_MS = 250;
/** A sweep this much later than planned means the gateway was not running: that time does not count. */
export const STALL_MS = 1_000;
/** Silent machines checked and revoked at once. */
const EXPIRIES = 16;

export interface HeartbeatWatchOptions {
  /** This gateway process's id, written into the claims it makes. */
  readonly gatewayId: string;
  /** Whether the store follows etcd now (no revocations otherwise). */
  readonly healthy: () => boolean;
  /** Milliseconds of a monotonic clock (default performance.now). */
  readonly now?: () => number;
}

/**
 * How a heartbeat came: a MachineHeartbeat call, or a message on a MachineHeartbeats stream,
 * the first one of its machine on that stream ("stream-first": the agent connected to this
 * gateway) or a later one ("stream").
 */
export type HeartbeatVia = "call" | "stream-first" | "stream";

export class HeartbeatWatch {
  readonly deadlines = new HeartbeatDeadlines();
  /** Leases of machines registered through this gateway whose registration wrote the claim, until their first stream message. */
  private readonly claimedAtRegistration = new Set<string>();
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastSweepAt: number;
  private sweeping = false;

  constructor(
    private readonly store: RegistryStore,
    private readonly keys: Keys,
    private readonly log: Logger,
    private readonly options: HeartbeatWatchOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.lastSweepAt = this.now();
  }

  start(): void {
    this.lastSweepAt = this.now();
    this.timer ??= setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The store regained etcd: what it missed meanwhile says nothing of the machines. */
  regainedEtcd(): void {
    this.deadlines.grace(this.now());
  }

  /** This gateway's id: the value of the heartbeat claims it writes. */
  get gatewayId(): string {
    return this.options.gatewayId;
  }

  /**
   * A machine was registered through this gateway under a lease granted for ttlMs ×
   * LEASE_TTL_FACTOR, and the registration's write claimed it for this gateway.
   */
  registered(machineId: string, leaseId: string, ttlMs: number): void {
    this.deadlines.heard(machineId, leaseId, ttlMs, this.now());
    this.claimedAtRegistration.add(leaseId);
  }

  /**
   * A heartbeat the gateway got to only after its caller's deadline (a backlog): not answered, but
   * the machine lived when it sent it. Counts for a machine heart-beating here on schedule.
   */
  heardLate(machineId: string, leaseId: string): void {
    this.deadlines.refresh(machineId, leaseId, this.now());
  }

  /**
   * The liveness of a machine this gateway hears, as the engine reads a lease: how long until it
   * would be declared silent (its deadline), out of agent_ttl. A machine that heart-beats on
   * schedule keeps at least 2/3 of it; one that stopped has less than half after agent_ttl/2, as
   * with a lease renewed at every heartbeat. Undefined for machines it does not hear (ask etcd).
   */
  knownLease(machineId: string, leaseId: string): { remainingMs: number; grantedMs: number } | undefined {
    const t = this.deadlines.get(leaseId);
    if (!t || t.machineId !== machineId) return undefined;
    return { remainingMs: Math.max(0, Math.floor(t.deadline - this.now())), grantedMs: Math.round(t.ttlMs) };
  }

  /** The lease was revoked or is gone. */
  forget(leaseId: string): void {
    this.deadlines.forget(leaseId);
    this.claimedAtRegistration.delete(leaseId);
  }

  /**
   * A heartbeat of the machine registered under `leaseId` (the caller checked that it is): true
   * when its lease lives on. Renews it in etcd only when due, or when this heartbeat claims the
   * machine for this gateway.
   */
  async heartbeat(machineId: string, leaseId: string, via: HeartbeatVia = "call"): Promise<boolean> {
    const heardAt = this.now();
    let ttlMs = this.deadlines.get(leaseId)?.ttlMs;
    if (ttlMs === undefined) {
      // Registered through another gateway, or before this one started.
      const left = await this.store.leaseTimeToLive(leaseId);
      if (!left || left.ttlSeconds <= 0) return false;
      ttlMs = ttlFromGrantedSeconds(left.grantedSeconds);
    }
    const heard = this.deadlines.heard(machineId, leaseId, ttlMs, heardAt);
    // On a stream the gateway knows when the agent came to it: a gap there (this gateway was
    // slow) is no sign that the agent went elsewhere, and claiming every machine after a stall
    // would be a burst of writes at the worst moment.
    // The first message of the agent's stream after it registered here, on schedule, needs no
    // claim (its registration wrote it) and no renewal (the lease is fresh): in a registration
    // storm that is two etcd requests fewer per machine.
    const firstAfterRegistration = via === "stream-first" && this.claimedAtRegistration.delete(leaseId) && !heard.claim;
    const claim = via === "call" ? heard.claim : !firstAfterRegistration && (via === "stream-first" || heard.firstHeard);
    try {
      const alive = await this.store.keepAlive(leaseId, claim ? undefined : renewBelowMs(ttlMs));
      if (!alive) {
        this.forget(leaseId);
        return false;
      }
      if (claim) await this.store.txn({ success: [put(this.keys.heartbeatClaim(machineId), this.options.gatewayId, leaseId)] }, "txn-idempotent");
      return true;
    } catch (err) {
      // The claim (or its renewal) may not have been made: the next heartbeat makes it again.
      if (claim) this.forget(leaseId);
      throw err;
    }
  }

  /** Revokes the leases of machines silent past their deadline; public for tests. */
  async sweep(): Promise<void> {
    const now = this.now();
    const elapsed = now - this.lastSweepAt;
    const late = elapsed - SWEEP_MS;
    this.lastSweepAt = now;
    if (late > STALL_MS) {
      // The time it did not run does not count towards anyone's silence (heartbeats sent
      // meanwhile are read now); a full agent_ttl of grace made a machine lost just before
      // a stall wait up to twice as long to be declared so.
      this.deadlines.postpone(elapsed);
      this.log.warn({ stalledMs: Math.round(late), machines: this.deadlines.size }, "the gateway stalled: that time does not count towards machines' silence");
      return;
    }
    // A late sweep: the event loop lagged (busy, or waiting for a core), and heartbeats may
    // have waited that long unread. Only the lag is discounted, not the whole busy time: a
    // gateway kept busy for long (by the agents' work, or by other processes on its cores)
    // still declares a silent machine in about agent_ttl plus its lag, not only at etcd's lapse.
    if (late > 0) this.deadlines.postpone(late);
    if (this.sweeping || !this.options.healthy()) return;
    const overdue = this.deadlines.overdue(now);
    if (overdue.length === 0) return;
    this.sweeping = true;
    try {
      await mapLimit(overdue, EXPIRIES, (t) => this.expire(t));
    } finally {
      this.sweeping = false;
    }
  }

  private stillOverdue(t: Tracked): boolean {
    const current = this.deadlines.get(t.leaseId);
    return current !== undefined && current.deadline <= this.now() && this.options.healthy();
  }

  private async expire(t: Tracked): Promise<void> {
    try {
      const expiresAt = this.store.leaseExpiresAt(t.leaseId);
      const [claim, left] = await Promise.all([this.store.get(this.keys.heartbeatClaim(t.machineId)), this.store.leaseTimeToLive(t.leaseId)]);
      if (claim && claim.lease === t.leaseId && claim.value !== this.options.gatewayId) {
        this.forget(t.leaseId);
        this.log.info({ machine: t.machineId, lease: t.leaseId, claimedBy: claim.value }, "machine heart-beats through another gateway now");
        return;
      }
      if (left && expiresAt !== undefined && left.ttlSeconds * 1000 > expiresAt - this.now() + 1_000) {
        // Renewed since this gateway last did: the agent heart-beats elsewhere.
        this.forget(t.leaseId);
        this.log.info({ machine: t.machineId, lease: t.leaseId }, "machine's lease renewed through another gateway");
        return;
      }
      if (!this.stillOverdue(t)) return;
      this.forget(t.leaseId);
      this.log.warn({ machine: t.machineId, lease: t.leaseId, silentMs: Math.round(this.now() - t.heardAt) }, "machine silent for agent_ttl: revoking its lease");
      if (left) await this.store.revokeLease(t.leaseId);
    } catch (err) {
      // etcd trouble: the next sweep tries again (the deadline stays passed).
      this.log.warn({ machine: t.machineId, lease: t.leaseId, err: (err as Error).message }, "cannot check a silent machine's lease; trying again");
    }
  }
}

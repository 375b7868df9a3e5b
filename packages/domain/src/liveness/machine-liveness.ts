// Who decides that a machine is lost, and when: the engine's liveness rules, pure, with time
// as data (every method takes `now`, in ms of one monotonic clock).
//
// A machine whose registration vanished (its lease lapsed) is only *missing* at first. It is
// declared *lost*, and its units may move, when all of these hold:
//
//   1. the engine's view has been continuous for one agent_ttl: after the engine (re)gains
//      leadership or its view of the cluster (a re-sync of its replica, e.g. after a gateway or
//      etcd outage) every machine gets a fresh grace period, as Nomad resets heartbeat TTLs on
//      leader failover: a lapse seen then says more about the control plane than the machine;
//   2. the leases of the machines still registered were read after it went missing (the engine
//      asks the gateway): a machine whose lease has less than half its TTL left has missed
//      heartbeats and is *failing*;
//   3. the loss is not a mass loss: when the missing, failing and recently lost machines are more
//      than `unhealthyThreshold` of all (Kubernetes' unhealthy-zone threshold, 0.55), it is a
//      partition or an outage of the control plane, and nothing moves until machines return or
//      fewer are missing (and then, as after a gap in the view, one more grace period: machines
//      return from a partition one by one).
//
// Units of a lost machine move at once, except AtMostOnce units: they move `atMostOnceMarginMs`
// after the lapse was seen (their agent stopped them before its lease could lapse; the margin
// covers clock rates and the stop itself).

/** What the rules need to know of the cluster's timing and tolerance. */
export interface LivenessSettings {
  /** agent_ttl, in ms. */
  readonly ttlMs: number;
  /** engine_unhealthy_threshold: above this share of machines lost at once, nothing moves. */
  readonly unhealthyThreshold: number;
  /** How long after a machine's lease lapsed its AtMostOnce units may start elsewhere. */
  readonly atMostOnceMarginMs: number;
}

/** A lease with less than this share of its TTL left has missed heartbeats. */
export const FAILING_LEASE_SHARE = 0.5;

/** The mass-loss guard, when it holds. */
export interface MassLoss {
  /** Machines missing, failing or lost within one agent_ttl. */
  readonly affected: readonly string[];
  /** All machines the count is taken of. */
  readonly total: number;
  readonly threshold: number;
}

export interface LivenessVerdict {
  /** Machines declared lost by this evaluation (their units may move now). */
  readonly declaredLost: readonly string[];
  /** Set while too many machines are gone at once: nothing moves. */
  readonly massLoss: MassLoss | undefined;
  /** The engine should read the registered machines' leases (a missing machine waits for it). */
  readonly needLeaseCheck: boolean;
  /** When to evaluate again (a grace period or an AtMostOnce margin ends), if at all. */
  readonly nextAt: number | undefined;
}

/** May the units placed on a machine move off it now? */
export type MoveOff = { readonly move: true } | { readonly move: false; readonly reason: string; readonly retryAt?: number };

interface Lost {
  /** When the machine was first seen missing (its lapse, or the start of the view). */
  readonly since: number;
  readonly declaredAt: number;
}

export class MachineLiveness {
  private readonly present = new Set<string>();
  /** Missing machines, not declared lost yet -> when they were first seen missing. */
  private readonly missing = new Map<string, number>();
  /** Machines declared lost (kept a while: for the guard's count and AtMostOnce margins). */
  private readonly lost = new Map<string, Lost>();
  private graceUntil = Number.NEGATIVE_INFINITY;
  private failing: ReadonlySet<string> = new Set();
  private leasesCheckedAt = Number.NEGATIVE_INFINITY;
  private guarded = false;

  constructor(private readonly settings: LivenessSettings) {}

  /**
   * The view starts over (first snapshot, or a re-sync after a gap): `registered` are the
   * machines registered now; `referenced` are machines the schedule still places units on.
   * Known or referenced machines that are not registered are missing from now, and every
   * machine gets a fresh grace period.
   */
  viewStarted(now: number, registered: Iterable<string>, referenced: Iterable<string> = []): void {
    const ids = new Set(registered);
    const before = [...this.present, ...this.missing.keys(), ...referenced];
    this.present.clear();
    for (const id of ids) this.present.add(id);
    for (const id of ids) {
      this.missing.delete(id);
      this.lost.delete(id);
    }
    for (const id of before) {
      if (!ids.has(id) && !this.lost.has(id)) this.missing.set(id, Math.min(this.missing.get(id) ?? now, now));
    }
    this.graceFrom(now);
  }

  /** This engine became the leader: its timers start now, as if its view had just begun. */
  leadershipGained(now: number): void {
    this.graceFrom(now);
  }

  machineJoined(now: number, id: string): void {
    void now;
    this.present.add(id);
    this.missing.delete(id);
    this.lost.delete(id);
  }

  machineLeft(now: number, id: string): void {
    if (!this.present.delete(id) && this.lost.has(id)) return;
    if (!this.missing.has(id)) this.missing.set(id, now);
  }

  /** The registered machines' leases were read at `now`: these had missed heartbeats. */
  leasesChecked(now: number, failing: Iterable<string>): void {
    this.leasesCheckedAt = now;
    this.failing = new Set(failing);
  }

  isPresent(id: string): boolean {
    return this.present.has(id);
  }

  evaluate(now: number): LivenessVerdict {
    this.prune(now);
    const massLoss = this.massLoss(now);
    // Machines come back from a partition one by one: the ones still missing when the guard
    // lifts get a grace period too, rather than being declared lost by the first return.
    if (this.guarded && !massLoss) this.graceFrom(now);
    this.guarded = massLoss !== undefined;
    const declaredLost: string[] = [];
    let needLeaseCheck = false;
    let nextAt: number | undefined;
    const later = (t: number) => {
      if (t > now) nextAt = nextAt === undefined ? t : Math.min(nextAt, t);
    };
    for (const [id, since] of [...this.missing].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (now < this.graceUntil) {
        later(this.graceUntil);
        continue;
      }
      if (this.leasesCheckedAt < Math.max(since, this.graceUntil)) {
        needLeaseCheck = true;
        continue;
      }
      if (massLoss) continue;
      this.missing.delete(id);
      this.lost.set(id, { since, declaredAt: now });
      declaredLost.push(id);
    }
    for (const l of this.lost.values()) later(l.since + this.settings.atMostOnceMarginMs);
    return { declaredLost, massLoss, needLeaseCheck, nextAt };
  }

  /** Whether units placed on `machineId` may move off it now (AtMostOnce units wait longer). */
  moveOff(now: number, machineId: string, atMostOnce: boolean): MoveOff {
    if (this.present.has(machineId)) return { move: true };
    const lost = this.lost.get(machineId);
    if (lost) {
      const at = lost.since + this.settings.atMostOnceMarginMs;
      if (!atMostOnce || now >= at) return { move: true };
      return { move: false, reason: `AtMostOnce: waiting until ${Math.ceil((at - now) / 1000)} s after machine ${machineId}'s lease lapsed`, retryAt: at };
    }
    const since = this.missing.get(machineId);
    if (since === undefined) return { move: true };
    const massLoss = this.massLoss(now);
    if (massLoss) return { move: false, reason: describeMassLoss(massLoss) };
    if (now < this.graceUntil) {
      return { move: false, reason: `machine ${machineId} is not heart-beating; waiting for it until the engine's view has been steady for agent_ttl`, retryAt: this.graceUntil };
    }
    return { move: false, reason: `machine ${machineId} is not heart-beating; checking the other machines' leases` };
  }

  /** The missing machines not declared lost, with why their units stay (sorted by id). */
  heldMachines(now: number): Array<{ machineId: string; reason: string }> {
    return [...this.missing.keys()].sort().map((machineId) => {
      const v = this.moveOff(now, machineId, false);
      return { machineId, reason: v.move ? "" : v.reason };
    });
  }

  private graceFrom(now: number): void {
    this.graceUntil = Math.max(this.graceUntil, now + this.settings.ttlMs);
  }

  /** The guard: missing, failing and recently lost machines over all the engine knows. */
  private massLoss(now: number): MassLoss | undefined {
    const affected = new Set(this.missing.keys());
    for (const [id, l] of this.lost) if (now - l.since <= this.settings.ttlMs) affected.add(id);
    if (now - this.leasesCheckedAt <= this.settings.ttlMs) for (const id of this.failing) if (this.present.has(id)) affected.add(id);
    const total = this.present.size + this.missing.size + [...this.lost.values()].filter((l) => now - l.since <= this.settings.ttlMs).length;
    if (total === 0 || affected.size / total <= this.settings.unhealthyThreshold) return undefined;
    return { affected: [...affected].sort(), total, threshold: this.settings.unhealthyThreshold };
  }

  private prune(now: number): void {
    const keep = 2 * Math.max(this.settings.ttlMs, this.settings.atMostOnceMarginMs);
    for (const [id, l] of this.lost) if (now - l.since > keep) this.lost.delete(id);
  }
}

/** The guard in words, for logs, reasons and fleetctl. */
export function describeMassLoss(m: MassLoss): string {
  return `${m.affected.length} of ${m.total} machines lost contact at once (more than engine_unhealthy_threshold ${m.threshold}): treated as a partition or a control-plane fault, nothing moves until they return or fewer are missing`;
}

/** The machines whose leases have less than FAILING_LEASE_SHARE of their TTL left. */
export function failingLeases(leases: Iterable<{ machineId: string; remainingMs: number; grantedMs: number }>): string[] {
  const out: string[] = [];
  for (const l of leases) if (l.remainingMs < l.grantedMs * FAILING_LEASE_SHARE) out.push(l.machineId);
  return out;
}

/**
 * What users see as the reason of a unit placed on a machine that is not registered (its lease
 * lapsed, or the control plane lost it): the unit stays there until the machine returns or the
 * engine declares it lost. `detail` is the engine's word on that machine, when it gave one.
 */
export function unresponsiveMachineReason(machineId: string, detail = ""): string {
  const base = `machine ${machineId} is not responding; the unit stays placed there until it returns or the engine declares it lost`;
  return detail ? `${base} (${detail})` : base;
}

export function isUnresponsiveMachineReason(reason: string, machineId: string): boolean {
  return reason.startsWith(`machine ${machineId} is not responding;`);
}

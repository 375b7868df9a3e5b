// The machine's registration and its lease: exactly one registration in flight and one
// heartbeat in flight per agent, whoever asks (the heartbeat loop, a reconcile pass). Only a
// definitive "lease gone" (a heartbeat answered alive=false) registers again; a failed call
// (UNAVAILABLE, a deadline, a lost connection) never does: it is the caller's to retry, and the
// lease it renewed last may well still be alive.
import type { Machine } from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import type { Renewal } from "./at-most-once-fence.js";

export interface LeaseRegistry {
  register(machine: Machine, ttlSeconds: number): Promise<string>;
  /** true: the lease was renewed; false: it is gone. Throws when the answer is unknown. */
  heartbeat(machineId: string, leaseId: string): Promise<boolean>;
}

export interface LeaseEvents {
  /** A new lease was granted: the registry holds no unit states under it yet. */
  registered(leaseId: string): void;
  /** The lease was renewed no earlier than r.sentAt (a heartbeat answered alive, or a new lease). */
  renewed(r: Renewal): Promise<void>;
}

/**
 * When a heartbeat's renewal took effect, at the earliest. A heartbeat that failed (a deadline,
 * a lost connection) may still have reached a gateway, and a later heartbeat may be answered
 * by that earlier request's keep-alive (a gateway joins a refresh already in flight): so the
 * renewal counts from the first unanswered heartbeat since the last answered one. Pure.
 */
export function renewedNoEarlierThan(sentAt: number, unansweredSince: number | undefined): number {
  return unansweredSince === undefined ? sentAt : Math.min(sentAt, unansweredSince);
}

export class MachineLease {
  private lease: string | undefined;
  private registering: Promise<string> | undefined;
  private beating: Promise<void> | undefined;
  /** Send time of the first heartbeat since the last answered one that got no answer. */
  private unansweredSince: number | undefined;
  /** Registrations this agent made (each one revokes the previous lease). */
  registrations = 0;

  constructor(
    private readonly machine: Machine,
    private readonly ttlSeconds: number,
    private readonly registry: LeaseRegistry,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly events: LeaseEvents,
  ) {}

  /** The lease the agent holds now, if any. */
  get id(): string | undefined {
    return this.lease;
  }

  /** The lease, registering the machine first if it holds none (joining a registration in flight). */
  ensure(): Promise<string> {
    if (this.lease) return Promise.resolve(this.lease);
    this.registering ??= this.register().finally(() => (this.registering = undefined));
    return this.registering;
  }

  /** Renews the lease (joining a heartbeat in flight); registers when it holds none or the lease is gone. */
  heartbeat(): Promise<void> {
    this.beating ??= this.beat().finally(() => (this.beating = undefined));
    return this.beating;
  }

  private async register(): Promise<string> {
    const sentAt = this.now();
    const leaseId = await this.registry.register(this.machine, this.ttlSeconds);
    const receivedAt = this.now();
    this.registrations++;
    this.lease = leaseId;
    this.unansweredSince = undefined;
    this.log.info({ leaseId, ms: Math.round(receivedAt - sentAt) }, "machine registered");
    this.events.registered(leaseId);
    await this.events.renewed({ sentAt, receivedAt });
    return leaseId;
  }

  private async beat(): Promise<void> {
    const lease = this.lease;
    if (!lease) {
      await this.ensure();
      return;
    }
    const sentAt = this.now();
    let alive: boolean;
    try {
      alive = await this.registry.heartbeat(this.machine.id, lease);
    } catch (err) {
      this.unansweredSince ??= sentAt;
      throw err;
    }
    const receivedAt = this.now();
    const since = renewedNoEarlierThan(sentAt, this.unansweredSince);
    this.unansweredSince = undefined;
    if (alive) {
      await this.events.renewed({ sentAt: since, receivedAt });
      return;
    }
    // Definitive: the registry no longer holds this lease.
    if (this.lease === lease) {
      this.log.warn({ leaseId: lease }, "registration lapsed; registering again");
      this.lease = undefined;
    }
    await this.ensure();
  }
}

// The machine's registration and its lease: exactly one registration in flight and one
// heartbeat in flight per agent, whoever asks (the heartbeat loop, a reconcile pass). Only a
// definitive "lease gone" (a heartbeat answered alive=false) registers again; a failed call
// (UNAVAILABLE, a deadline, a lost connection) never does: it is the caller's to retry, and the
// lease it renewed last may well still be alive.
//
// A registration the registry refuses because another machine holds this machine id (two
// machines with one /etc/machine-id, see the gateway's machine-registration.ts) is not retried
// at once: the agent says so (RegistrationRefused, its log and state) and asks again every half
// agent_ttl, so that it takes the id over only once the other machine's lease has lapsed.
import type { Logger } from "@fleet/wire";
import { isFleetError, type Machine } from "@fleet/domain";
import type { Renewal } from "./at-most-once-fence.js";

export interface LeaseRegistry {
  /** Registers under a new lease; `instance` tells this agent from another machine with the same
   * id (a registration held by another instance is refused: FleetError already-exists). */
  register(machine: Machine, ttlSeconds: number, instance: string): Promise<string>;
  /** true: the lease was renewed; false: it is gone. Throws when the answer is unknown. */
  heartbeat(machineId: string, leaseId: string): Promise<boolean>;
  /** Takes the machine out of the cluster (only if registered under this lease) and revokes the lease. */
  unregister(machineId: string, leaseId: string): Promise<boolean>;
}

/** Another machine holds this machine id: this agent is not registered and runs nothing. */
export class RegistrationRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RegistrationRefused";
  }
}

export interface LeaseEvents {
  /** A new lease was granted: the registry holds no unit states under it yet. */
  registered(leaseId: string): void;
  /** The lease was renewed no earlier than r.sentAt (a heartbeat answered alive, or a new lease). */
  renewed(r: Renewal): Promise<void>;
  /** The registration was refused (another machine holds the id), or, with undefined, is no longer. */
  refused?(reason: string | undefined): void;
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
  /** Why the last registration was refused, and when (a refused one is asked again after REFUSED_RETRY). */
  private refusal: { readonly reason: string; readonly at: number } | undefined;
  /** Set once the machine left the cluster: nothing registers it again. */
  private released = false;

  constructor(
    private machine: Machine,
    private readonly ttlSeconds: number,
    private readonly registry: LeaseRegistry,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly events: LeaseEvents,
    private readonly instance = "",
  ) {}

  /** Why the registry refused this machine's registration, while it does. */
  get refusedBecause(): string | undefined {
    return this.refusal?.reason;
  }

  /** The machine as registered; a change (SIGHUP: metadata, public IP) registers it again, replacing
   * its own registration (the same instance). */
  async update(machine: Machine): Promise<void> {
    this.machine = machine;
    if (this.lease === undefined) return;
    this.lease = undefined;
    await this.ensure();
  }

  /**
   * Takes the machine out of the cluster at once: the registry deletes its record (if this lease
   * still holds it) and revokes the lease, with the unit states under it. Nothing registers the
   * machine again afterwards. Resolves with whether a registration was removed.
   */
  async release(): Promise<boolean> {
    this.released = true;
    await this.registering?.catch(() => undefined);
    await this.beating?.catch(() => undefined);
    const lease = this.lease;
    this.lease = undefined;
    if (lease === undefined) return false;
    return this.registry.unregister(this.machine.id, lease);
  }

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
    if (this.released) throw new Error("the machine left the cluster: not registering it again");
    const sentAt = this.now();
    const retryMs = (this.ttlSeconds * 1000) / 2;
    if (this.refusal && sentAt - this.refusal.at < retryMs) throw new RegistrationRefused(this.refusal.reason);
    let leaseId: string;
    try {
      leaseId = await this.registry.register(this.machine, this.ttlSeconds, this.instance);
    } catch (err) {
      if (!isFleetError(err, "already-exists")) throw err;
      if (this.refusal?.reason !== err.message) {
        this.log.error({ reason: err.message, retryInMs: retryMs }, "registration refused: another machine holds this machine id; running no units until it is free");
        this.events.refused?.(err.message);
      } else {
        this.log.debug({ reason: err.message }, "registration still refused");
      }
      this.refusal = { reason: err.message, at: sentAt };
      throw new RegistrationRefused(err.message);
    }
    const receivedAt = this.now();
    if (this.released) {
      // Left while this registration was in flight: take it back.
      await this.registry.unregister(this.machine.id, leaseId).catch(() => undefined);
      throw new Error("the machine left the cluster: not registering it again");
    }
    this.registrations++;
    this.lease = leaseId;
    this.unansweredSince = undefined;
    if (this.refusal) {
      this.log.warn({ leaseId, refusedFor: this.refusal.reason }, "registered: the machine id is no longer held by another machine");
      this.refusal = undefined;
      this.events.refused?.(undefined);
    }
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

// Leader election through the gateway: campaign, renew at a third of the TTL, and notice loss.
// Only the leader reconciles; every write it makes carries the fence of its term.
import { systemClock, type Clock } from "@fleet/domain";
import type { Logger } from "@fleet/wire";

export interface Term {
  readonly leaseId: string;
  readonly fence: number;
}

export interface LeadershipApi {
  acquire(candidateId: string, ttlSeconds: number): Promise<{ elected: boolean; leaderId: string; term?: Term }>;
  renew(candidateId: string, term: Term): Promise<boolean>;
  resign(candidateId: string, term: Term): Promise<void>;
}

export class Leadership {
  private term: Term | undefined;
  private timer: unknown;
  private stopped = false;
  private leaderSeen = "";

  constructor(
    private readonly api: LeadershipApi,
    readonly candidateId: string,
    private readonly ttlSeconds: number,
    private readonly log: Logger,
    private readonly onElected: () => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The current term, when this engine leads. */
  current(): Term | undefined {
    return this.term;
  }

  start(): void {
    void this.campaign();
  }

  /** A hint that leadership may have changed (e.g. the leader key vanished): campaign now. */
  poke(): void {
    if (!this.term && !this.stopped) {
      if (this.timer) this.clock.clearTimeout(this.timer);
      void this.campaign();
    }
  }

  /** The gateway refused a fenced write: this engine is no longer the leader. */
  lost(reason: string): void {
    if (!this.term) return;
    this.log.warn({ reason }, "lost leadership");
    this.term = undefined;
    this.schedule(this.ttlSeconds * 500);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    const term = this.term;
    this.term = undefined;
    if (term) await this.api.resign(this.candidateId, term).catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => void (this.term ? this.renew() : this.campaign()), ms);
  }

  private async campaign(): Promise<void> {
    try {
      const res = await this.api.acquire(this.candidateId, this.ttlSeconds);
      if (res.elected && res.term) {
        this.term = res.term;
        this.log.info({ fence: res.term.fence }, "elected engine leader");
        this.schedule((this.ttlSeconds * 1000) / 3);
        this.onElected();
        return;
      }
      if (res.leaderId !== this.leaderSeen) this.log.info({ leader: res.leaderId }, "standing by");
      this.leaderSeen = res.leaderId;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "leader election failed; retrying");
    }
    this.schedule((this.ttlSeconds * 1000) / 2);
  }

  private async renew(): Promise<void> {
    const term = this.term;
    if (!term) return this.campaign();
    try {
      if (!(await this.api.renew(this.candidateId, term))) return this.lost("lease expired or taken");
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "leadership renewal failed");
    }
    this.schedule((this.ttlSeconds * 1000) / 3);
  }
}

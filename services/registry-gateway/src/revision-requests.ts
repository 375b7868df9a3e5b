// Which request made the etcd revision a write of this gateway committed: the watch that later
// delivers the change (and publishes its hint) runs outside the request, so the gateway notes
// each write's request id by revision and the hint carries it on (request-scope.ts). Bounded:
// only the latest `max` revisions are remembered; a revision another gateway wrote has none.
//
// etcd may deliver a change on the watch before the write's own answer reaches the gateway:
// whenKnown waits, briefly, for the writes in flight to answer before the hint goes out.
export class RevisionRequests {
  private readonly byRevision = new Map<number, string>();
  private inFlight = 0;
  private waiters: Array<{ revision: number; done: () => void }> = [];

  constructor(private readonly max = 4096) {}

  /** A write goes out; `settled` once it answered (or failed). */
  begin(): void {
    this.inFlight++;
  }

  settled(revision?: number, requestId?: string): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (revision !== undefined) this.note(revision, requestId);
    this.wake();
  }

  note(revision: number, requestId: string | undefined): void {
    if (requestId === undefined) return;
    this.byRevision.set(revision, requestId);
    if (this.byRevision.size > this.max) {
      const oldest = this.byRevision.keys().next().value;
      if (oldest !== undefined) this.byRevision.delete(oldest);
    }
  }

  /** The request that wrote `revision`, if this gateway wrote it recently. */
  at(revision: number): string | undefined {
    return this.byRevision.get(revision);
  }

  /** Resolves with at(revision) once it is known or no write is in flight, or after maxMs. */
  whenKnown(revision: number, maxMs: number): Promise<string | undefined> {
    if (this.byRevision.has(revision) || this.inFlight === 0) return Promise.resolve(this.at(revision));
    return new Promise((resolve) => {
      const waiter = {
        revision,
        done: () => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(this.at(revision));
        },
      };
      const timer = setTimeout(waiter.done, maxMs);
      this.waiters.push(waiter);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) if (this.byRevision.has(w.revision) || this.inFlight === 0) w.done();
  }
}

// The api's read replica: a UnitsReplica kept from the registry-gateway's WatchCluster stream
// with the units' states, followed (re-synced after a backoff when the stream ends) by
// @fleet/wire's FeedFollower. Reads that must reflect the api's own writes wait until the
// replica has their revision; when it is not synced (no gateway, the gateway lost etcd) or
// does not get there within waitMs, the caller reads from the gateway as before.
import {
  clusterChangeFromWire,
  FeedFollower,
  streamFeed,
  type FeedEvent,
  type Logger,
  type RegistryServiceClient,
  type WatchClusterResponse,
} from "@fleet/wire";
import { UnitsReplica, type UnitsDelta } from "./units-replica.js";

interface UnitsEvent extends FeedEvent {
  readonly delta: UnitsDelta;
}

function unitsEventFromWire(res: WatchClusterResponse): UnitsEvent {
  const { revision, snapshot, requestIds: _requestIds, ...delta } = clusterChangeFromWire(res);
  return { revision, snapshot, delta };
}

/** How long a read waits for the replica to reach the api's last write before asking the gateway. */
export const READ_WAIT_MS = 2000;

export class ReadReplica {
  /** The newest revision of the api's own writes: reads after them must see them, whichever gateway answers. */
  private writtenRevision = 0;
  private replica: UnitsReplica | undefined;
  private readonly follower: FeedFollower<UnitsEvent>;

  constructor(
    gateway: RegistryServiceClient,
    log: Logger,
    private readonly waitMs = READ_WAIT_MS,
  ) {
    const open = (minRevision: number) => gateway.watchCluster({ minRevision, withStates: true });
    const source = streamFeed(open, unitsEventFromWire, "the gateway closed the cluster watch");
    this.follower = new FeedFollower(
      source,
      log,
      (event) => {
        if (event.snapshot) this.replica = UnitsReplica.fromSnapshot(event.delta);
        else this.replica?.apply(event.delta);
      },
      { what: "read replica" },
    );
  }

  start(): void {
    this.follower.start();
  }

  stop(): void {
    this.follower.stop();
  }

  /** Following the gateway's cluster stream: reads are answered here. */
  get synced(): boolean {
    return this.follower.synced;
  }

  get written(): number {
    return this.writtenRevision;
  }

  /** The api wrote at `revision`. */
  wrote(revision: number): void {
    this.writtenRevision = Math.max(this.writtenRevision, revision);
  }

  /** The replica once it reflects the api's writes; undefined when it cannot (then read from the gateway). */
  async current(): Promise<UnitsReplica | undefined> {
    if (await this.follower.waitFor(this.writtenRevision, this.waitMs)) return this.replica;
    // Synced but behind the api's own write for waitMs: the stream seems stuck.
    if (this.follower.synced) this.follower.resync(`did not reach revision ${this.writtenRevision} within ${this.waitMs} ms`);
    return undefined;
  }
}

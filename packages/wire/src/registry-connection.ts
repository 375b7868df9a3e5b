// A connection to a registry-gateway that remembers the newest revision its owner has seen
// (from its own writes and from hints), so that every read is at least that fresh.
import { connect } from "./client.js";
import { RegistryServiceClient } from "./gen/fleet/v1/registry.pb.js";

export class RegistryConnection {
  readonly client: RegistryServiceClient;
  private seen = 0;

  constructor(address: string) {
    this.client = connect(RegistryServiceClient, address);
  }

  /** Reads must reflect at least this revision from now on. */
  observe(revision: number): void {
    this.seen = Math.max(this.seen, revision);
  }

  get minRevision(): number {
    return this.seen;
  }

  close(): void {
    this.client.close();
  }
}

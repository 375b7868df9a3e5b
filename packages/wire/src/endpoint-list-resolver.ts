// The grpc-js name resolver of `fleet-endpoints:host:port,host:port` targets: every address of
// every listed endpoint (host names looked up as the system does, IP literals as they are), one
// grpc endpoint per entry. The channel's pick_first policy then connects to one and, when that
// connection drops or cannot be made, to the next (see client.ts). Each re-resolution (grpc asks
// for one when a connection is lost) looks the names up again.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { experimental, Metadata, status, type ChannelOptions } from "@grpc/grpc-js";
import { ENDPOINT_LIST_SCHEME, endpointsOfTargetPath, hostPortString, type HostPort } from "./endpoint-list.js";

type Endpoint = experimental.Endpoint;

async function addressesOf(hp: HostPort): Promise<Endpoint> {
  if (isIP(hp.host)) return { addresses: [{ host: hp.host, port: hp.port }] };
  const found = await lookup(hp.host, { all: true });
  return { addresses: found.map((a) => ({ host: a.address, port: hp.port })) };
}

/** Least time between two look-ups of the names (grpc asks again each time all connections fail). */
const MIN_RESOLUTION_INTERVAL_MS = 1_000;

class EndpointListResolver implements experimental.Resolver {
  private readonly endpoints: HostPort[];
  /** Only IP literals: the answer never changes, so it is given once (as grpc's ipv4: resolver does). */
  private readonly literal: boolean;
  private answered = false;
  private running = false;
  private again = false;
  private destroyed = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    target: experimental.GrpcUri,
    private readonly listener: experimental.ResolverListener,
    _options: ChannelOptions,
  ) {
    this.endpoints = endpointsOfTargetPath(target.path);
    this.literal = this.endpoints.every((e) => isIP(e.host) !== 0);
  }

  updateResolution(): void {
    this.destroyed = false;
    if (this.literal && this.answered) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const wait = this.lastStart + MIN_RESOLUTION_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        if (!this.destroyed) this.updateResolution();
      }, wait).unref();
      return;
    }
    this.running = true;
    this.lastStart = Date.now();
    void this.resolve().finally(() => {
      this.running = false;
      if (this.again && !this.destroyed) {
        this.again = false;
        this.updateResolution();
      }
    });
  }

  private async resolve(): Promise<void> {
    const results = await Promise.allSettled(this.endpoints.map(addressesOf));
    if (this.destroyed) return;
    const found: Endpoint[] = [];
    const failures: string[] = [];
    results.forEach((r, i) => {
      const name = hostPortString(this.endpoints[i] as HostPort);
      if (r.status === "rejected") failures.push(`${name}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
      else if (r.value.addresses.length === 0) failures.push(`${name}: no address`);
      else found.push(r.value);
    });
    this.answered = true;
    const note = failures.join("; ");
    if (found.length === 0) {
      const details = `no endpoint could be resolved (${note || "empty list"})`;
      this.listener(experimental.statusOrFromError({ code: status.UNAVAILABLE, details, metadata: new Metadata() }), {}, null, note);
      return;
    }
    this.listener(experimental.statusOrFromValue(found), {}, null, note);
  }

  destroy(): void {
    this.destroyed = true;
    this.again = false;
    this.answered = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The first endpoint: what grpc puts in :authority (and checks TLS names against, see tls.ts). */
  static getDefaultAuthority(target: experimental.GrpcUri): string {
    const first = endpointsOfTargetPath(target.path)[0];
    return first ? hostPortString(first) : target.path;
  }
}

let registered = false;

/** Makes grpc-js resolve `fleet-endpoints:` targets; once per process. */
export function registerEndpointListResolver(): void {
  if (registered) return;
  experimental.registerResolver(ENDPOINT_LIST_SCHEME, EndpointListResolver);
  registered = true;
}

// How the gateway connects to etcd: hosts, auth and TLS, per-attempt deadlines, keep-alive pings,
// member circuits (member-policy.ts), and the retry policy of each kind of request (etcd-retry.ts).
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { ExponentialBackoff, handleWhen, noop, retry, wrap, type IBackoff, type IPolicy } from "cockatiel";
import { Etcd3, type IOptions } from "etcd3";
import type { Logger } from "@fleet/wire";
import { classifyEtcdError, shouldRetry, type EtcdOp } from "./etcd-retry.js";
import { MemberPolicy } from "./member-policy.js";

export interface EtcdStoreOptions {
  readonly hosts: readonly string[];
  readonly requestTimeoutMs: number;
  readonly auth?: { username: string; password: string };
  readonly tls?: EtcdTls;
}

/** PEM contents for talking to etcd over TLS (etcd_cafile, etcd_certfile, etcd_keyfile). */
export interface EtcdTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** Reads the etcd TLS files; undefined when none is set. Errors name the option. */
export function etcdTls(cafile: string, certfile: string, keyfile: string): EtcdTls | undefined {
  if ((certfile === "") !== (keyfile === "")) throw new Error("etcd_certfile and etcd_keyfile go together");
  const read = (path: string, option: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read ${option} ${path}: ${(err as Error).message}`);
    }
  };
  if (!cafile && !certfile) return undefined;
  return {
    ...(cafile ? { ca: read(cafile, "etcd_cafile") } : {}),
    ...(certfile ? { cert: read(certfile, "etcd_certfile"), key: read(keyfile, "etcd_keyfile") } : {}),
  };
}

/** Retries after the first attempt, for operations where a retry is allowed at all. */
const RETRIES = 2;
/** Retries of a request that never reached etcd (always safe). */
const NOT_SENT_RETRIES = 5;
/** How long re-reads after a lost watch, and re-dials of a member, back off at most. */
export const MAX_RELOAD_BACKOFF_MS = 1_000;

/** An etcd client whose every attempt gets a fresh deadline; retries are left to retryPolicies(). */
export function connectEtcd(options: EtcdStoreOptions): Etcd3 {
  const timeoutMs = options.requestTimeoutMs;
  const opts: IOptions = {
    hosts: [...options.hosts],
    // Resolved by etcd3 for each attempt: a retry never inherits a spent deadline. Streams
    // (watch, keep-alive) live as long as their connection.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    grpcOptions: {
      // A member that stops answering (hung, or cut off) is noticed by HTTP/2 pings; etcd
      // refuses pings more often than every 5 s (--grpc-keepalive-min-time).
      "grpc.keepalive_time_ms": 10_000,
      "grpc.keepalive_timeout_ms": 5_000,
      // A returning member is dialled again within a second (grpc's default backs off to 120 s).
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": MAX_RELOAD_BACKOFF_MS,
      // No channelz: nothing reads it, and it times and counts every message of every call.
      "grpc.enable_channelz": 0,
    },
    faultHandling: {
      host: () => new MemberPolicy(),
      // Retries are decided per operation (policies below), not for every call alike.
      global: noop,
      // etcd3 calls .next() on it as on a backoff factory, which ExponentialBackoff is; its
      // type declaration says IBackoff.
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: MAX_RELOAD_BACKOFF_MS }) as unknown as IBackoff<unknown>,
    },
  };
  if (options.auth) opts.auth = options.auth;
  if (options.tls) {
    opts.credentials = {
      // Without etcd_cafile, the system's trusted roots (as Node ships them).
      rootCertificate: options.tls.ca ?? Buffer.from(rootCertificates.join("\n")),
      ...(options.tls.cert && options.tls.key ? { certChain: options.tls.cert, privateKey: options.tls.key } : {}),
    };
  }
  return new Etcd3(opts);
}

/**
 * Each kind of request's retry policy: jittered backoff, only when shouldRetry says it is safe.
 * A request that provably never reached etcd (a member that refuses connections) is tried up
 * to NOT_SENT_RETRIES more times, long enough for etcd3 to open that member's circuit and go to
 * another (3 lost connections); any other retryable failure RETRIES times.
 */
export function retryPolicies(log: Logger): Record<EtcdOp, IPolicy> {
  const policy = (op: EtcdOp): IPolicy => {
    const logged = <P extends { onRetry: (fn: (r: { attempt: number; delay: number } & ({ error: Error } | { value: unknown })) => void) => unknown }>(p: P): P => {
      p.onRetry((r) => log.debug({ op, attempt: r.attempt, delayMs: Math.round(r.delay), err: "error" in r ? r.error.message : undefined }, "etcd request retried"));
      return p;
    };
    const notSent = logged(retry(handleWhen((err) => classifyEtcdError(err) === "not-sent"), { maxAttempts: NOT_SENT_RETRIES, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }) }));
    const other = logged(retry(handleWhen((err) => classifyEtcdError(err) !== "not-sent" && shouldRetry(op, err)), { maxAttempts: RETRIES, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }) }));
    return wrap(other, notSent);
  };
  return {
    range: policy("range"),
    "txn-idempotent": policy("txn-idempotent"),
    "txn-once": policy("txn-once"),
    "lease-grant": policy("lease-grant"),
    "lease-revoke": policy("lease-revoke"),
    "lease-keepalive": policy("lease-keepalive"),
    "lease-ttl": policy("lease-ttl"),
  };
}

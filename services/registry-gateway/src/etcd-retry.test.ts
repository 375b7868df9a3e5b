import { describe, expect, it } from "vitest";
import { BrokenCircuitError } from "cockatiel";
import { EtcdLeaseInvalidError, GRPCDeadlineExceededError, GRPCInvalidArgumentError, GRPCUnavailableError } from "etcd3";
import { classifyEtcdError, etcdFailureToFleetError, EtcdSlowRequestError, EtcdStreamTimeoutError, isLostConnection, shouldRetry, type EtcdOp } from "./etcd-retry.js";

/** What grpc-js hands a stream's 'error' listener: a plain Error with a numeric code. */
function serviceError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details });
}

const errors = {
  "no connection": new GRPCUnavailableError("14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:2379"),
  "open circuit": new BrokenCircuitError(),
  "no leader": new GRPCUnavailableError("14 UNAVAILABLE: etcdserver: no leader"),
  "connection dropped": new GRPCUnavailableError("14 UNAVAILABLE: Connection dropped"),
  "raw stream error": serviceError(14, "UNAVAILABLE: read ECONNRESET"),
  "deadline exceeded": new GRPCDeadlineExceededError("4 DEADLINE_EXCEEDED: Deadline exceeded after 1.001s"),
  "slow request (member policy)": new EtcdSlowRequestError(new GRPCDeadlineExceededError("4 DEADLINE_EXCEEDED: Deadline exceeded")),
  "etcd request timed out": new GRPCUnavailableError("14 UNAVAILABLE: etcdserver: request timed out"),
  "keep-alive timeout": new EtcdStreamTimeoutError("lease 1 keep-alive: no answer within 1000 ms"),
  "lease not found": new EtcdLeaseInvalidError("etcdserver: requested lease not found"),
  "invalid argument": new GRPCInvalidArgumentError("3 INVALID_ARGUMENT: etcdserver: too many operations in txn request"),
} as const;
type Case = keyof typeof errors;

describe("classifyEtcdError", () => {
  const table: Array<[Case, ReturnType<typeof classifyEtcdError>]> = [
    ["no connection", "not-sent"],
    ["open circuit", "not-sent"],
    ["no leader", "not-sent"],
    ["connection dropped", "unknown"],
    ["raw stream error", "unknown"],
    ["deadline exceeded", "unknown"],
    ["slow request (member policy)", "unknown"],
    ["etcd request timed out", "unknown"],
    ["keep-alive timeout", "unknown"],
    ["lease not found", "rejected"],
    ["invalid argument", "rejected"],
  ];
  it.each(table)("%s: %s", (name, expected) => {
    expect(classifyEtcdError(errors[name])).toBe(expected);
  });
});

describe("shouldRetry: which operations retry after which failures", () => {
  const retried = (op: EtcdOp): Case[] => (Object.keys(errors) as Case[]).filter((name) => shouldRetry(op, errors[name]));
  const neverSent: Case[] = ["no connection", "open circuit", "no leader"];
  const transient: Case[] = [...neverSent, "connection dropped", "raw stream error", "deadline exceeded", "slow request (member policy)", "etcd request timed out", "keep-alive timeout"];

  it.each<EtcdOp>(["lease-grant", "txn-once"])("%s (not idempotent) is re-sent only when the attempt never reached etcd", (op) => {
    expect(retried(op)).toEqual(neverSent);
  });
  it.each<EtcdOp>(["range", "txn-idempotent", "lease-keepalive", "lease-revoke", "lease-ttl"])("%s (idempotent) retries every transient failure", (op) => {
    expect(retried(op)).toEqual(transient);
  });
});

describe("isLostConnection: what opens a member's circuit", () => {
  it.each<[Case, boolean]>([
    ["no connection", true],
    ["connection dropped", true],
    ["raw stream error", true],
    ["no leader", true],
    ["deadline exceeded", false],
    ["etcd request timed out", false],
    ["invalid argument", false],
  ])("%s: %s", (name, expected) => {
    expect(isLostConnection(errors[name])).toBe(expected);
  });
});

describe("etcdFailureToFleetError", () => {
  it("says a write may have been applied only when it may", () => {
    const unknownWrite = etcdFailureToFleetError("txn-once", errors["deadline exceeded"]);
    expect(unknownWrite.kind).toBe("unavailable");
    expect(unknownWrite.message).toMatch(/may have been applied/);
    expect(etcdFailureToFleetError("txn-once", errors["no connection"]).message).not.toMatch(/may have been applied/);
    expect(etcdFailureToFleetError("lease-keepalive", errors["keep-alive timeout"]).message).not.toMatch(/may have been applied/);
    expect(etcdFailureToFleetError("range", errors["invalid argument"]).kind).toBe("internal");
  });
});

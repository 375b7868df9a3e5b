import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { lostAnswerCause, notSentMessage, someNames, unknownOutcomeMessage, wasStarted, writeOutcome, type CallFailure } from "./call-outcome.js";

const local = (code: number, details: string, peer = "127.0.0.1:49400"): CallFailure => ({ code, details, answered: false, peer });
const answered = (code: number, details: string, serverOutcome?: CallFailure["serverOutcome"]): CallFailure => ({
  code,
  details,
  answered: true,
  peer: "127.0.0.1:49400",
  ...(serverOutcome ? { serverOutcome } : {}),
});

describe("writeOutcome", () => {
  it.each<[string, CallFailure, ReturnType<typeof writeOutcome>]>([
    // Never sent: grpc-js had no connection to put it on.
    ["no connection (fail-fast pick)", local(status.UNAVAILABLE, "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1", "dns:127.0.0.1:1"), "not-applied"],
    ["deadline while waiting for a connection", local(status.DEADLINE_EXCEEDED, "Deadline exceeded after 2.900s,wait_for_ready,Waiting for LB pick", "fleet-endpoints:a:1,b:2"), "not-applied"],
    ["failed before a peer (unix target)", local(status.UNAVAILABLE, "Name resolution failed", "unix:///run/x.sock"), "not-applied"],
    // Sent, then the answer was lost.
    ["connection dropped mid-call", local(status.UNAVAILABLE, "Connection dropped"), "unknown"],
    ["deadline after it was sent", local(status.DEADLINE_EXCEEDED, "Deadline exceeded after 3.001s,remote_addr=127.0.0.1:49500"), "unknown"],
    ["cancelled after it was sent", local(status.CANCELLED, "Cancelled on client"), "unknown"],
    ["an HTTP/2 transport error", local(status.INTERNAL, "Received RST_STREAM with code 2 triggered by internal client error: Protocol error"), "unknown"],
    ["a peer on a unix socket", local(status.UNAVAILABLE, "Connection dropped", "/run/fleet/api.sock"), "unknown"],
    ["an IPv6 peer", local(status.UNAVAILABLE, "Connection dropped", "[::1]:49400"), "unknown"],
    // Answers of a fleet server.
    ["a refusal", answered(status.ALREADY_EXISTS, "unit a.service exists"), "refused"],
    ["invalid input", answered(status.INVALID_ARGUMENT, "bad name"), "refused"],
    ["a server that could not confirm (etcd timed out)", answered(status.UNAVAILABLE, "etcdserver: request timed out"), "unknown"],
    ["a server that says it did not apply it", answered(status.UNAVAILABLE, "etcd unreachable", "not-applied"), "not-applied"],
    ["a server passing on an unknown outcome", answered(status.UNAVAILABLE, "creating unit a.service may have been applied: ...", "unknown"), "unknown"],
    ["a server's own deadline", answered(status.DEADLINE_EXCEEDED, "Deadline exceeded"), "unknown"],
    // A status no fleet server sent, that is not the transport's: definite.
    ["UNIMPLEMENTED from an older server", local(status.UNIMPLEMENTED, "The server does not implement the method"), "refused"],
  ])("%s", (_name, failure, want) => {
    expect(writeOutcome(failure)).toBe(want);
  });
});

describe("wasStarted", () => {
  it("tells a peer address from the channel's target", () => {
    expect(wasStarted({ peer: "127.0.0.1:1", details: "" })).toBe(true);
    expect(wasStarted({ peer: "dns:127.0.0.1:1", details: "" })).toBe(false);
    expect(wasStarted({ peer: "unknown", details: "" })).toBe(true);
  });
});

describe("wording", () => {
  it("says what may have been applied and why", () => {
    const cause = lostAnswerCause(local(status.UNAVAILABLE, "Connection dropped"), "the registry-gateway");
    expect(unknownOutcomeMessage("creating unit a.service", cause)).toBe(
      "creating unit a.service may have been applied: the connection to the registry-gateway (127.0.0.1:49400) was lost before its answer (Connection dropped)",
    );
    expect(lostAnswerCause(local(status.DEADLINE_EXCEEDED, "Deadline exceeded after 3s,remote_addr=10.0.0.1:1", "10.0.0.1:1"), "the api")).toBe(
      "no answer from the api (10.0.0.1:1) before the deadline",
    );
    expect(lostAnswerCause(answered(status.UNAVAILABLE, "etcdserver: request timed out"), "the registry-gateway")).toBe(
      "the registry-gateway could not confirm it (etcdserver: request timed out)",
    );
  });

  it("says that nothing was sent, and where it could not go", () => {
    expect(notSentMessage(local(status.UNAVAILABLE, "No connection established", "fleet-endpoints:a:1,b:2"), "the registry-gateway")).toBe(
      "the registry-gateway at a:1,b:2 is not reachable, nothing was sent (No connection established)",
    );
  });
});

describe("someNames", () => {
  it("names up to three, then counts", () => {
    expect(someNames(["a"])).toBe("a");
    expect(someNames(["a", "b", "c"])).toBe("a, b, c");
    expect(someNames(["a", "b", "c", "d", "e"])).toBe("a, b, c and 2 more");
  });
});

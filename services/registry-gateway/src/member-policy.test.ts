import { describe, expect, it } from "vitest";
import { BrokenCircuitError, CircuitState } from "cockatiel";
import { GRPCDeadlineExceededError, GRPCUnavailableError } from "etcd3";
import { EtcdSlowRequestError } from "./etcd-retry.js";
import { MemberPolicy } from "./member-policy.js";

const slow = () => Promise.reject(new GRPCDeadlineExceededError("4 DEADLINE_EXCEEDED: Deadline exceeded after 1.000s"));
const lost = () => Promise.reject(new GRPCUnavailableError("14 UNAVAILABLE: No connection established"));

describe("MemberPolicy", () => {
  it("stays closed through any number of slow requests, each reported as slow", async () => {
    const policy = new MemberPolicy({ failures: 3, halfOpenAfterMs: 1_000 });
    for (let i = 0; i < 10; i++) await expect(policy.execute(slow)).rejects.toBeInstanceOf(EtcdSlowRequestError);
    expect(policy.state).toBe(CircuitState.Closed);
    await expect(policy.execute(() => "ok")).resolves.toBe("ok");
  });

  it("opens after consecutive lost connections, then skips the member", async () => {
    const policy = new MemberPolicy({ failures: 3, halfOpenAfterMs: 60_000 });
    for (let i = 0; i < 3; i++) await expect(policy.execute(lost)).rejects.toBeInstanceOf(GRPCUnavailableError);
    expect(policy.state).toBe(CircuitState.Open);
    await expect(policy.execute(() => "ok")).rejects.toBeInstanceOf(BrokenCircuitError);
  });

  it("a slow request between lost connections neither opens nor resets the count", async () => {
    const policy = new MemberPolicy({ failures: 3, halfOpenAfterMs: 60_000 });
    await expect(policy.execute(lost)).rejects.toThrow();
    await expect(policy.execute(slow)).rejects.toThrow();
    await expect(policy.execute(lost)).rejects.toThrow();
    expect(policy.state).toBe(CircuitState.Closed);
    await expect(policy.execute(lost)).rejects.toThrow();
    expect(policy.state).toBe(CircuitState.Open);
  });
});

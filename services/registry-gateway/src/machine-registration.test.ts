import { describe, expect, it } from "vitest";
import { decideRegistration, registrationOf, type ExistingRegistration, type RegistrationDecision } from "./machine-registration.js";

const ID = "0123456789abcdef0123456789abcdef";
const held = (instance: string, publicIp = "10.0.0.1", lease = "7"): ExistingRegistration => ({ instance, publicIp, lease });

describe("decideRegistration: fleet 1.0's create-if-absent, with an agent's own restart told apart", () => {
  const cases: Array<{ name: string; existing: ExistingRegistration | undefined; instance: string; publicIp?: string; want: RegistrationDecision["kind"] }> = [
    { name: "nobody holds the id: created (fleet 1.0: prevExist=false succeeds)", existing: undefined, instance: "a", want: "create" },
    { name: "the same agent again (a restart, its lease still alive): replaced", existing: held("a"), instance: "a", want: "replace" },
    {
      name: "the same agent from another IP (its address changed): replaced",
      existing: held("a", "10.0.0.1"),
      instance: "a",
      publicIp: "10.0.0.9",
      want: "replace",
    },
    { name: "another machine with the same id (fleet 1.0: 'Key already exists'): refused", existing: held("a"), instance: "b", want: "refuse" },
    {
      name: "another machine with the same id and the same IP (the machine rebooted after a crash, within the TTL): refused until the lease lapses",
      existing: held("a", "10.0.0.1"),
      instance: "b",
      publicIp: "10.0.0.1",
      want: "refuse",
    },
    { name: "an agent that sends no instance (older version): replaced, as before", existing: held("a"), instance: "", want: "replace" },
    { name: "a registration an older agent made (an upgrade restarting it): replaced", existing: held(""), instance: "b", want: "replace" },
    { name: "neither has an instance: replaced, as before", existing: held(""), instance: "", want: "replace" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(decideRegistration(c.existing, { machineId: ID, instance: c.instance, publicIp: c.publicIp ?? "10.0.0.2" }).kind).toBe(c.want);
    });
  }

  it("a replacement names the lease it replaces (compared in the write, then revoked)", () => {
    expect(decideRegistration(held("a", "10.0.0.1", "4242"), { machineId: ID, instance: "a", publicIp: "10.0.0.1" })).toMatchObject({ kind: "replace", lease: "4242" });
  });

  it("a refusal says which machine holds the id and what to do", () => {
    const d = decideRegistration(held("a", "10.0.0.1"), { machineId: ID, instance: "b", publicIp: "10.0.0.2" });
    expect(d.kind === "refuse" && d.message).toBe(
      `machine id ${ID} is already registered by another machine (10.0.0.1) (this one: 10.0.0.2): two machines share one /etc/machine-id; this registration is refused until that machine's lease lapses`,
    );
  });
});

describe("registrationOf", () => {
  it("reads the instance and public IP of a stored record; anything else counts as none", () => {
    expect(registrationOf(JSON.stringify({ publicIp: "10.0.0.1", metadata: {}, instance: "abc" }), "9")).toEqual({ instance: "abc", publicIp: "10.0.0.1", lease: "9" });
    expect(registrationOf(JSON.stringify({ publicIp: "10.0.0.1", metadata: {} }), "9")).toEqual({ instance: "", publicIp: "10.0.0.1", lease: "9" });
    expect(registrationOf("not json", "9")).toEqual({ instance: "", publicIp: "", lease: "9" });
    expect(registrationOf(JSON.stringify({ instance: 5 }), "9")).toEqual({ instance: "", publicIp: "", lease: "9" });
  });
});

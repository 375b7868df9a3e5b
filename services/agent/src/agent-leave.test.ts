// What the agent does when the machine leaves the cluster (its unit stopped: fleetd 1.0's purge)
// and when another machine holds its machine id, against the fake registry and the fake systemd.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeUnit } from "@fleet/domain/fixtures";
import type { Unit } from "@fleet/domain";
import { agentHarness, TEST_MACHINE, type AgentHarness } from "./agent-harness.js";
import { FENCE_TARGET, FENCE_TIMER } from "./fence-units.js";
import { RegistrationRefused } from "./machine-lease.js";

let h: AgentHarness;
afterEach(() => h.close());

const atMostOnce = (name: string): Unit =>
  makeUnit(name, "launched", [
    { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
    { section: "X-Fleet", name: "AtMostOnce", value: "true" },
  ]);

const withInstall = (name: string): Unit =>
  makeUnit(name, "launched", [
    { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
    { section: "Install", name: "WantedBy", value: "multi-user.target" },
  ]);

describe("leaving the cluster (systemctl stop of the agent)", () => {
  it("stops and unloads every unit, disarms the fence, and only then removes the registration", async () => {
    h = agentHarness();
    h.registry.units = [makeUnit("a.service", "launched"), makeUnit("b.service", "loaded"), withInstall("c.service"), atMostOnce("amo.service")];
    await h.agent.reconcile("start");
    await h.agent.reconcile("at-most-once fence armed");
    await h.settle();
    expect(["a.service", "c.service", "amo.service"].map((u) => h.systemd.isActive(u))).toEqual([true, true, true]);
    const lease = h.agent.leaseId;

    const calls = h.systemd.calls.length;
    const left = await h.agent.unloadAll();
    expect(left).toEqual({ units: 4, failed: [] });
    // Nothing runs, nothing is left on disk or linked, and the fence will not fire later.
    expect(["a.service", "b.service", "c.service", "amo.service"].some((u) => h.systemd.isActive(u))).toBe(false);
    expect(readdirSync(h.files.dir).filter((f) => !f.startsWith("."))).toEqual([]);
    expect(existsSync(join(h.files.runtimeDir, "a.service"))).toBe(false);
    expect(h.systemd.enabled.has("c.service")).toBe(false);
    expect(h.systemd.calls.slice(calls)).toEqual(expect.arrayContaining([`stop ${FENCE_TIMER}`, `stop ${FENCE_TARGET}`, "disable c.service"]));
    // Still registered while the units stopped: the engine moved nothing meanwhile.
    expect(h.registry.unregistered).toEqual([]);
    expect(await h.agent.release()).toBe(true);
    expect(h.registry.unregistered).toEqual([lease]);
    expect(h.registry.states.size).toBe(0);
    // systemd reloads (it forgets the removed files) only once the machine is out of the
    // cluster: the units move elsewhere without waiting for it.
    expect(h.systemd.calls.slice(calls)).not.toContain("daemon-reload");
    await h.agent.afterLeaving();
    expect(h.systemd.calls.slice(calls).filter((c) => c === "daemon-reload")).toHaveLength(1);
    // Nothing registers the machine again, whoever asks.
    await expect(h.agent.heartbeat()).rejects.toThrow("left the cluster");
    await expect(h.agent.reconcile("hint")).rejects.toThrow("left the cluster");
    expect(h.registry.registrations).toBe(1);
  });

  it("unloads the units a restarted agent adopted (files on disk) as well", async () => {
    h = agentHarness();
    h.registry.units = [makeUnit("a.service", "launched")];
    await h.agent.reconcile("start");
    const fresh = h.restart();
    expect(await fresh.unloadAll()).toEqual({ units: 1, failed: [] });
    expect(h.systemd.isActive("a.service")).toBe(false);
    // It never registered: there is no registration of its own to remove.
    expect(await fresh.release()).toBe(false);
    expect(h.registry.unregistered).toEqual([]);
  });

  it("tries a unit whose stop fails again, and says which units it could not unload", async () => {
    h = agentHarness();
    h.registry.units = [makeUnit("a.service", "launched"), makeUnit("stuck.service", "launched")];
    await h.agent.reconcile("start");
    h.systemd.broken.set("stuck.service", "Access denied");
    const left = await h.clock.runUntil(h.agent.unloadAll());
    expect(left).toEqual({ units: 2, failed: ["stuck.service"] });
    // Three attempts, a second apart, as fleetd 1.0 kept purging until nothing was left.
    expect(h.systemd.calls.filter((c) => c === "stop stuck.service")).toHaveLength(3);
    expect(h.systemd.isActive("a.service")).toBe(false);
  });
});

describe("a machine id another machine holds", () => {
  it("is refused: the agent says so once, runs nothing, and asks again only every agent_ttl/2", async () => {
    h = agentHarness({ instance: "instance-b" });
    h.registry.heldBy = "instance-a";
    h.registry.units = [makeUnit("a.service", "launched")];
    await expect(h.agent.reconcile("start")).rejects.toBeInstanceOf(RegistrationRefused);
    expect(h.agent.refusedBecause).toContain("is already registered by another machine");
    expect(h.agent.leaseId).toBeUndefined();
    expect(h.systemd.calls.filter((c) => c.startsWith("start "))).toEqual([]);
    expect(h.registry.states.size).toBe(0);

    // Heartbeats and passes meanwhile do not ask the registry again (ttl 5 s: every 2.5 s).
    const asked = () => h.registry.registrationAttempts;
    const before = asked();
    h.advance(1000);
    await expect(h.agent.heartbeat()).rejects.toBeInstanceOf(RegistrationRefused);
    await expect(h.agent.reconcile("hint")).rejects.toBeInstanceOf(RegistrationRefused);
    expect(asked()).toBe(before);
    h.advance(1600);
    await expect(h.agent.heartbeat()).rejects.toBeInstanceOf(RegistrationRefused);
    expect(asked()).toBe(before + 1);

    // The other machine is gone (its lease lapsed): this one registers and runs its schedule.
    h.registry.heldBy = undefined;
    h.advance(2600);
    await h.agent.reconcile("interval");
    await h.settle();
    expect(h.agent.refusedBecause).toBeUndefined();
    expect(h.agent.leaseId).toBeDefined();
    expect(h.systemd.isActive("a.service")).toBe(true);
  });

  it("the same agent registering again (its own restart) is not refused", async () => {
    h = agentHarness({ instance: "instance-a" });
    h.registry.heldBy = "instance-a";
    await h.agent.reconcile("start");
    expect(h.agent.leaseId).toBeDefined();
    expect(h.registry.instance).toBe("instance-a");
  });
});

describe("a reload that changes the machine (SIGHUP: metadata, public IP)", () => {
  it("registers it again under the same instance, replacing its own registration, and reports its units again", async () => {
    h = agentHarness({ instance: "instance-a" });
    h.registry.units = [makeUnit("a.service", "launched")];
    await h.agent.reconcile("start");
    await h.settle();
    const before = h.agent.leaseId;
    await h.agent.updateMachine({ ...TEST_MACHINE, metadata: { disk: "ssd" } });
    await h.settle();
    expect(h.registry.registrations).toBe(2);
    expect(h.registry.registered?.metadata).toEqual({ disk: "ssd" });
    expect(h.registry.instance).toBe("instance-a");
    expect(h.agent.leaseId).not.toBe(before);
    // The new lease holds the unit's state again; the unit itself was not touched.
    expect(h.registry.states.get("a.service")).toMatchObject({ activeState: "active", currentState: "launched" });
    expect(h.systemd.calls.filter((c) => c === "start a.service")).toHaveLength(1);
  });
});

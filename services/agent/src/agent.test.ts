// The agent's pass against a fake systemd and a fake registry, with real unit files in a
// temporary directory and fake clocks.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeUnit } from "@fleet/domain/fixtures";
import { agentHarness, TEST_MACHINE, type AgentHarness } from "./agent-harness.js";

const machine = TEST_MACHINE;
let h: AgentHarness;
let dir: string;
afterEach(() => h.close());

function makeAgent() {
  h = agentHarness();
  dir = h.dir;
  return { agent: h.agent, registry: h.registry, systemd: h.systemd };
}
const settle = () => h.settle();

describe("Agent", () => {
  it("writes, links and starts a unit scheduled here, and reports systemd's state", async () => {
    const { agent, registry, systemd } = makeAgent();
    registry.units = [makeUnit("hello.service", "launched")];
    await agent.reconcile("test");
    await settle();
    expect(readFileSync(join(dir, "units", "hello.service"), "utf8")).toContain("ExecStart=/bin/sleep infinity");
    expect(systemd.calls).toEqual(["link hello.service", "start hello.service"]);
    expect(registry.states.get("hello.service")).toMatchObject({ activeState: "active", subState: "running", currentState: "launched" });
  });

  it("reports a started unit once, launched and active together, not each step of its start", async () => {
    const { agent, registry } = makeAgent();
    registry.units = [makeUnit("hello.service", "launched")];
    await agent.reconcile("test");
    await settle();
    const reports = registry.reports.flat().filter((s) => s.name === "hello.service");
    expect(reports).toEqual([expect.objectContaining({ loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" })]);
  });

  it("reports a unit whose start takes long as activating before its start ends, then launched", async () => {
    const { agent, registry, systemd } = makeAgent();
    registry.units = [makeUnit("slow.service", "launched")];
    systemd.startDelays.set("slow.service", 1600);
    const pass = agent.reconcile("test");
    await h.until(() => systemd.calls.includes("start slow.service"));
    await h.clock.advanceAsync(1300);
    await settle();
    expect(registry.states.get("slow.service")).toMatchObject({ activeState: "activating", subState: "start", currentState: "inactive" });
    await h.clock.advanceAsync(300);
    await pass;
    await settle();
    expect(registry.states.get("slow.service")).toMatchObject({ activeState: "active", subState: "running", currentState: "launched" });
  });

  it("a restarted agent adopts what systemd runs: no restart, no duplicate", async () => {
    const { agent, registry, systemd } = makeAgent();
    registry.units = [makeUnit("hello.service", "launched")];
    await agent.reconcile("test");
    const callsBefore = systemd.calls.length;

    const second = h.restart();
    await second.reconcile("restart");
    await settle();
    expect(systemd.calls.slice(callsBefore)).toEqual([]);
    expect(registry.registrations).toBe(2);
    expect(registry.states.get("hello.service")).toMatchObject({ activeState: "active", currentState: "launched" });
  });

  it("a unit that exits is reported as systemd says, and not restarted by fleet", async () => {
    const { agent, registry, systemd } = makeAgent();
    registry.units = [makeUnit("once.service", "launched")];
    await agent.reconcile("test");
    systemd.set("once.service", "failed", "failed");
    await settle();
    expect(registry.states.get("once.service")).toMatchObject({ activeState: "failed", subState: "failed", currentState: "launched" });
    await agent.reconcile("timer");
    expect(systemd.calls.filter((c) => c === "start once.service")).toHaveLength(1);
  });

  it("stops, removes and forgets a unit that is no longer scheduled here", async () => {
    const { agent, registry, systemd } = makeAgent();
    registry.units = [makeUnit("hello.service", "launched")];
    await agent.reconcile("test");
    registry.units = [];
    await agent.reconcile("destroyed");
    await settle();
    expect(systemd.calls.slice(-2)).toEqual(["stop hello.service", "daemon-reload"]);
    expect(existsSync(join(dir, "units", "hello.service"))).toBe(false);
    expect(registry.states.has("hello.service")).toBe(false);
  });

  it("registers again and reports every unit when its lease lapsed", async () => {
    const { agent, registry } = makeAgent();
    registry.units = [makeUnit("hello.service", "launched")];
    await agent.reconcile("test");
    await settle();
    registry.expireLease();
    await agent.heartbeat();
    await settle();
    expect(registry.registrations).toBe(2);
    expect(registry.states.get("hello.service")).toMatchObject({ activeState: "active", currentState: "launched" });
  });

  it("runs the global units whose metadata and conflicts this machine satisfies", async () => {
    const { agent, registry } = makeAgent();
    const global = (name: string, xfleet: string[]) =>
      makeUnit(name, "launched", [
        { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
        { section: "X-Fleet", name: "Global", value: "true" },
        ...xfleet.map((line) => ({ section: "X-Fleet", name: line.split("=")[0] ?? "", value: line.slice(line.indexOf("=") + 1) })),
      ]);
    registry.machine = { ...machine, metadata: { region: "east" } };
    registry.units = [
      global("east.service", ["MachineMetadata=region=east"]),
      global("west.service", ["MachineMetadata=region=west"]),
      global("shy.service", ["Conflicts=placed.service"]),
      makeUnit("placed.service", "launched"),
    ];
    await agent.reconcile("test");
    await settle();
    expect([...registry.states.keys()].sort()).toEqual(["east.service", "placed.service"]);
  });

  it("a template scheduled here fails no pass: it is reported with its reason, the other units start, and the next passes go on", async () => {
    const { agent, registry, systemd } = makeAgent();
    registry.units = [makeUnit("foo@.service", "launched"), makeUnit("good.service", "launched")];
    await agent.reconcile("test");
    await settle();
    expect(registry.states.get("good.service")).toMatchObject({ activeState: "active", currentState: "launched" });
    expect(registry.states.get("foo@.service")).toMatchObject({
      currentState: "inactive",
      reason: "unit foo@.service cannot run: it is a template (missing the instance name)",
    });
    registry.units = [makeUnit("good.service", "launched"), makeUnit("later.service", "launched")];
    await agent.reconcile("template destroyed");
    await settle();
    expect(registry.states.get("later.service")).toMatchObject({ activeState: "active", currentState: "launched" });
    expect(registry.states.has("foo@.service")).toBe(false);
    expect(systemd.calls.filter((c) => c.includes("foo@"))).toEqual([]);
  });

  it("a template's file left by an older agent is removed without asking systemd about it, and the unit keeps its reason", async () => {
    const { agent, registry, systemd } = makeAgent();
    mkdirSync(join(dir, "units"), { recursive: true });
    writeFileSync(join(dir, "units", "foo@.service"), "[Service]\nExecStart=/bin/sleep infinity\n");
    registry.units = [makeUnit("foo@.service", "launched"), makeUnit("good.service", "launched")];
    await agent.reconcile("restart");
    await settle();
    expect(existsSync(join(dir, "units", "foo@.service"))).toBe(false);
    expect(systemd.calls.filter((c) => c.includes("foo@"))).toEqual([]);
    expect(registry.states.get("foo@.service")).toMatchObject({ hash: "hash-of-foo@.service", currentState: "inactive", reason: expect.stringContaining("it is a template") });
    expect(registry.states.get("good.service")).toMatchObject({ activeState: "active" });
  });

  it("a unit systemd fails every call for is reported with the error, the others run, and the next pass retries it", async () => {
    const { agent, registry, systemd } = makeAgent();
    registry.units = [makeUnit("a.service", "launched"), makeUnit("odd.service", "launched"), makeUnit("z.service", "launched")];
    systemd.broken.set("odd.service", "Unit odd.service has a bad unit file setting.");
    await agent.reconcile("test");
    await agent.reconcile("interval");
    await settle();
    expect(registry.states.get("a.service")).toMatchObject({ activeState: "active", currentState: "launched" });
    expect(registry.states.get("z.service")).toMatchObject({ activeState: "active", currentState: "launched" });
    expect(registry.states.get("odd.service")?.reason).toContain("Unit odd.service has a bad unit file setting.");
    expect(registry.states.get("odd.service")?.currentState).not.toBe("launched");

    systemd.broken.delete("odd.service");
    await agent.reconcile("interval");
    await settle();
    expect(registry.states.get("odd.service")).toMatchObject({ activeState: "active", currentState: "launched" });
    expect(registry.states.get("odd.service")?.reason).toBeUndefined();
  });

  it("a unit file it cannot write fails that unit only, with the reason, until it can", async () => {
    const { agent, registry } = makeAgent();
    // A directory where the agent writes the file first (temp file, then rename).
    mkdirSync(join(dir, "units", ".stuck.service.tmp"), { recursive: true });
    registry.units = [makeUnit("stuck.service", "launched"), makeUnit("fine.service", "launched")];
    await agent.reconcile("test");
    await settle();
    expect(registry.states.get("fine.service")).toMatchObject({ activeState: "active", currentState: "launched" });
    expect(registry.states.get("stuck.service")).toMatchObject({ currentState: "inactive", reason: expect.stringContaining("write-file failed") });

    rmSync(join(dir, "units", ".stuck.service.tmp"), { recursive: true });
    await agent.reconcile("interval");
    await settle();
    expect(registry.states.get("stuck.service")).toMatchObject({ activeState: "active", currentState: "launched" });
  });

  it("one failing start does not stop the other units of the pass", async () => {
    const { agent, registry, systemd } = makeAgent();
    systemd.failing.add("bad.service");
    registry.units = [makeUnit("bad.service", "launched"), makeUnit("good.service", "launched")];
    await agent.reconcile("test");
    await settle();
    expect(registry.states.get("good.service")).toMatchObject({ activeState: "active" });
    expect(registry.states.get("bad.service")).toMatchObject({ activeState: "failed" });
  });
});

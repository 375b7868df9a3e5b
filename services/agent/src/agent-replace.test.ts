// Replacing a unit's contents on the machine (fleetctl's replace, a changed unit), against the
// fake systemd and registry: systemd never starts an older copy of the file, and the state the
// agent reports meanwhile never pairs the new contents' hash with the old contents' state.
import { afterEach, describe, expect, it } from "vitest";
import { makeUnit } from "@fleet/domain/fixtures";
import type { Unit, UnitState } from "@fleet/domain";
import { agentHarness, type AgentHarness } from "./agent-harness.js";
import { unitFileOnMachine } from "./fence-units.js";

let h: AgentHarness;
afterEach(() => h.close());

const v2: Unit = { ...makeUnit("a.service", "launched", [{ section: "Service", name: "ExecStart", value: "/bin/sleep 1000" }]), hash: "hash-of-v2" };

describe("a replaced unit", () => {
  it("after an agent died between writing its new file and daemon-reload, is started only after a reload (systemd's copy was stale)", async () => {
    h = agentHarness();
    h.registry.units = [makeUnit("a.service", "launched")];
    await h.agent.reconcile("start");
    // The replace, as far as the agent got before it died: the unit stopped, its new file written.
    await h.systemd.stopUnit("a.service");
    await h.files.write("a.service", unitFileOnMachine(v2));
    h.registry.units = [v2];
    const calls = h.systemd.calls.length;

    await h.restart().reconcile("start");
    expect(h.systemd.calls.slice(calls)).toEqual(["daemon-reload", "start a.service"]);
    expect(h.systemd.loaded("a.service")).toContain("ExecStart=/bin/sleep 1000");
    expect(h.systemd.isActive("a.service")).toBe(true);
  });

  it("a unit started from a file systemd has loaded is started without a reload", async () => {
    h = agentHarness();
    h.registry.units = [makeUnit("a.service", "loaded")];
    await h.agent.reconcile("start");
    h.registry.units = [makeUnit("a.service", "launched")];
    const calls = h.systemd.calls.length;
    await h.agent.reconcile("hint");
    expect(h.systemd.calls.slice(calls)).toEqual(["start a.service"]);
  });

  it("is reported with its old hash while its old contents stop, and with the new one once the new file is loaded", async () => {
    h = agentHarness();
    h.registry.units = [makeUnit("a.service", "launched")];
    await h.agent.reconcile("start");
    await h.settle();
    // What the registry holds at the moment systemd reloads (the new file written, not loaded).
    const atReload: Array<UnitState | undefined> = [];
    h.systemd.delay = async (call) => {
      if (call !== "daemon-reload") return;
      await h.settle();
      atReload.push(h.registry.states.get("a.service"));
    };
    h.registry.units = [v2];
    await h.agent.reconcile("replaced");
    await h.settle();
    expect(atReload).toEqual([expect.objectContaining({ hash: "hash-of-a.service", activeState: "inactive" })]);
    expect(h.registry.states.get("a.service")).toMatchObject({ hash: "hash-of-v2", activeState: "active", currentState: "launched" });
  });

  it("whose new file cannot be written keeps its old hash, with the reason", async () => {
    h = agentHarness();
    h.registry.units = [makeUnit("a.service", "launched")];
    await h.agent.reconcile("start");
    const { mkdirSync } = await import("node:fs");
    // A directory where the agent writes the file first (temp file, then rename).
    mkdirSync(`${h.files.dir}/.a.service.tmp`);
    h.registry.units = [v2];
    await h.agent.reconcile("replaced");
    await h.settle();
    expect(h.registry.states.get("a.service")).toMatchObject({ hash: "hash-of-a.service", reason: expect.stringContaining("write-file failed") });
  });
});

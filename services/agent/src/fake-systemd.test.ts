import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "@fleet/domain/fixtures";
import { AT_MOST_ONCE_LINES, FENCE_TARGET, FENCE_TIMER, fenceUnitFiles } from "./fence-units.js";
import { FakeUnitManager } from "./fake-systemd.js";
import { unitObjectPath } from "./unit-path.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-fake-systemd-"));
  mkdirSync(join(dir, "runtime"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A unit file on disk; returns its path. */
function unitFile(name: string, text = "[Service]\nExecStart=/bin/sleep infinity\n"): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("FakeUnitManager", () => {
  it("knows linked units, starts and stops them, and signals each change of a watched unit", async () => {
    const fake = new FakeUnitManager();
    const seen: string[] = [];
    fake.onUnitChange((path, changed) => seen.push(`${path} ${changed.ActiveState}`));
    await fake.watchUnits(["a.service"]);
    expect((await fake.listUnitsByNames(["a.service"]))[0]?.loadState).toBe("not-found");
    await fake.linkUnitFiles([unitFile("a.service")]);
    expect(await fake.startUnit("a.service")).toBe("done");
    await fake.stopUnit("a.service");
    expect(seen).toEqual([`${unitObjectPath("a.service")} active`, `${unitObjectPath("a.service")} inactive`]);
    expect(fake.calls).toEqual(["link a.service", "start a.service", "stop a.service"]);
  });

  it("needs a daemon-reload for a unit whose file changed since it loaded it, as systemd's NeedDaemonReload says", async () => {
    const fake = new FakeUnitManager();
    await fake.linkUnitFiles([unitFile("a.service"), unitFile("b.service")]);
    expect(await fake.needingReload(["a.service", "b.service", "new.service"])).toEqual([]);
    unitFile("a.service", "[Service]\nExecStart=/bin/true\n");
    expect(await fake.needingReload(["a.service", "b.service"])).toEqual(["a.service"]);
    expect(fake.loaded("a.service")).toContain("/bin/sleep infinity");
    await fake.reload();
    expect(await fake.needingReload(["a.service"])).toEqual([]);
    expect(fake.loaded("a.service")).toContain("/bin/true");
  });

  it("a slow start (startDelays) ends on its clock", async () => {
    const clock = new FakeClock();
    const fake = new FakeUnitManager({ clock, now: () => clock.now() });
    await fake.linkUnitFiles([unitFile("slow.service")]);
    fake.startDelays.set("slow.service", 500);
    let result: string | undefined;
    void fake.startUnit("slow.service").then((r) => (result = r));
    await clock.advanceAsync(499);
    expect(fake.units.get("slow.service")?.activeState).toBe("activating");
    await clock.advanceAsync(1);
    expect(result).toBe("done");
    expect(fake.isActive("slow.service")).toBe(true);
  });

  it("signals nothing about units nobody watches, like a bus without a match rule", async () => {
    const fake = new FakeUnitManager();
    const seen: string[] = [];
    fake.onUnitChange((path) => seen.push(path));
    await fake.linkUnitFiles([unitFile("a.service"), unitFile("b.service")]);
    await fake.watchUnits(["a.service", "b.service"]);
    await fake.unwatchUnits(["b.service"]);
    await fake.startUnit("a.service");
    await fake.startUnit("b.service");
    expect(seen).toEqual([unitObjectPath("a.service")]);
  });

  it("refuses to start a unit it does not know, and to link a file that does not exist, like systemd", async () => {
    const fake = new FakeUnitManager();
    await expect(fake.startUnit("nope.service")).rejects.toThrow("not found");
    await expect(fake.linkUnitFiles([join(dir, "missing.service")])).rejects.toThrow("does not exist");
  });

  it("refuses templates in every call that names a unit, as systemd does (one bad name fails a whole list)", async () => {
    const fake = new FakeUnitManager();
    await fake.linkUnitFiles([unitFile("foo@.service"), unitFile("ok.service")]);
    const missing = "Unit name foo@.service is missing the instance name.";
    await expect(fake.listUnitsByNames(["ok.service", "foo@.service"])).rejects.toThrow(missing);
    await expect(fake.startUnit("foo@.service")).rejects.toThrow(missing);
    await expect(fake.stopUnit("foo@.service")).rejects.toThrow(missing);
  });

  it("fails the units it is told to fail", async () => {
    const fake = new FakeUnitManager();
    fake.failing.add("bad.service");
    await fake.linkUnitFiles([unitFile("bad.service")]);
    expect(await fake.startUnit("bad.service")).toBe("failed");
    expect((await fake.listUnitsByNames(["bad.service"]))[0]?.activeState).toBe("failed");
  });

  it("runs fleet's at-most-once fence as systemd does: Requisite= refuses, the timer fires D after its last restart, PartOf= units stop", async () => {
    let now = 0;
    const runtimeDir = join(dir, "runtime");
    for (const [name, text] of fenceUnitFiles(3000)) writeFileSync(join(runtimeDir, name), text);
    const fake = new FakeUnitManager({ runtimeDir, now: () => now });
    await fake.linkUnitFiles([unitFile("amo.service", `[Service]\nExecStart=/bin/sleep infinity\n${AT_MOST_ONCE_LINES}`), unitFile("plain.service")]);
    expect(await fake.startUnit("amo.service")).toBe("dependency");

    expect(await fake.restartUnit(FENCE_TIMER)).toBe("done");
    expect(await fake.startUnit(FENCE_TARGET)).toBe("done");
    expect(await fake.startUnit("amo.service")).toBe("done");
    await fake.startUnit("plain.service");
    now = 2000;
    await fake.restartUnit(FENCE_TIMER);
    now = 4999;
    fake.tick();
    expect(fake.isActive("amo.service")).toBe(true);
    now = 5000;
    fake.tick();
    expect(fake.isActive("amo.service")).toBe(false);
    expect(fake.isActive(FENCE_TARGET)).toBe(false);
    expect(fake.isActive("plain.service")).toBe(true);
    expect(await fake.startUnit("amo.service")).toBe("dependency");
  });
});

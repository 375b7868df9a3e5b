import { describe, expect, it } from "vitest";
import { FakeUnitManager } from "./systemd-fake.js";
import { unitObjectPath } from "./unit-path.js";

describe("FakeUnitManager", () => {
  it("knows linked units, starts and stops them, and signals each change of a watched unit", async () => {
    const fake = new FakeUnitManager();
    const seen: string[] = [];
    fake.onUnitChange((path, changed) => seen.push(`${path} ${changed.ActiveState}`));
    await fake.watchUnits(["a.service"]);
    expect((await fake.listUnitsByNames(["a.service"]))[0]?.loadState).toBe("not-found");
    await fake.linkUnitFiles(["/run/fleet/units/a.service"]);
    expect(await fake.startUnit("a.service")).toBe("done");
    await fake.stopUnit("a.service");
    expect(seen).toEqual([`${unitObjectPath("a.service")} active`, `${unitObjectPath("a.service")} inactive`]);
    expect(fake.calls).toEqual(["link a.service", "start a.service", "stop a.service"]);
  });

  it("signals nothing about units nobody watches, like a bus without a match rule", async () => {
    const fake = new FakeUnitManager();
    const seen: string[] = [];
    fake.onUnitChange((path) => seen.push(path));
    await fake.linkUnitFiles(["/run/fleet/units/a.service", "/run/fleet/units/b.service"]);
    await fake.watchUnits(["a.service", "b.service"]);
    await fake.unwatchUnits(["b.service"]);
    await fake.startUnit("a.service");
    await fake.startUnit("b.service");
    expect(seen).toEqual([unitObjectPath("a.service")]);
  });

  it("refuses to start a unit it does not know, like systemd", async () => {
    await expect(new FakeUnitManager().startUnit("nope.service")).rejects.toThrow("not found");
  });

  it("fails the units it is told to fail", async () => {
    const fake = new FakeUnitManager();
    fake.failing.add("bad.service");
    await fake.linkUnitFiles(["/x/bad.service"]);
    expect(await fake.startUnit("bad.service")).toBe("failed");
    expect((await fake.listUnitsByNames(["bad.service"]))[0]?.activeState).toBe("failed");
  });
});

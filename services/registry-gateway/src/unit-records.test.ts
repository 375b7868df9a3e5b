import { describe, expect, it } from "vitest";
import { FleetError } from "@fleet/domain";
import { fakeRegistry, keys, OPTIONS, OTHER_OPTIONS } from "./registry-fixture.js";

describe("units over a fake store", () => {
  it("creates a unit once; the same contents again count as created, other contents are ALREADY_EXISTS", async () => {
    const { registry } = fakeRegistry();
    expect((await registry.units.create("a.service", OPTIONS, "launched")).existed).toBe(false);
    expect((await registry.units.create("a.service", OPTIONS, "launched")).existed).toBe(true);
    await expect(registry.units.create("a.service", OTHER_OPTIONS, "launched")).rejects.toMatchObject({ kind: "already-exists", message: "unit a.service already exists" });
    expect(registry.units.get("a.service").unit).toMatchObject({ name: "a.service", options: OPTIONS, desiredState: "launched" });
  });

  it("refuses what fleet refuses, in the words users see", async () => {
    const { registry } = fakeRegistry();
    const cases: Array<[string, Promise<unknown>, string]> = [
      ["a bad name", registry.units.create("a/b.service", OPTIONS, "launched"), 'invalid unit name "a/b.service": only [a-zA-Z0-9:_.@-] are allowed'],
      ["no options", registry.units.create("a.service", [], "launched"), "unit has no options"],
      ["a bad section", registry.units.create("a.service", [{ section: "Se rvice", name: "X", value: "y" }], "launched"), 'invalid section name "Se rvice"'],
      ["an active template", registry.units.create("t@.service", OPTIONS, "launched"), 'cannot activate template "t@.service"'],
      ["a name twice", registry.units.createMany([{ name: "a.service", options: OPTIONS, desiredState: "launched" }, { name: "a.service", options: OPTIONS, desiredState: "launched" }]), "unit a.service is given twice"],
    ];
    for (const [, call, message] of cases) {
      const err = await call.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(FleetError);
      expect(err).toMatchObject({ kind: "invalid-argument", message });
    }
  });

  it("creates many in transactions of at most 100, and one by one in a chunk where some exist", async () => {
    const { store, registry } = fakeRegistry();
    await registry.units.create("u5.service", OPTIONS, "launched");
    const units = Array.from({ length: 150 }, (_, i) => ({ name: `u${i}.service`, options: OPTIONS, desiredState: "launched" as const }));
    const sent = store.txns.length;
    const res = await registry.units.createMany(units);
    expect(res.created.filter((c) => !c)).toHaveLength(1);
    expect(res.created[5]).toBe(false);
    expect(store.cache.units.size).toBe(150);
    // Chunk 1 fails (u5 exists) then goes one by one (100); chunk 2 is one transaction.
    expect(store.txns.length - sent).toBe(1 + 100 + 1);
    expect(Math.max(...store.txns.map((t) => t.req.success?.length ?? 0))).toBeLessThanOrEqual(100);
  });

  it("replaces contents under a compare of the mod revision, leaves the same contents alone, creates when absent", async () => {
    const { store, registry } = fakeRegistry();
    expect(await registry.units.replace("a.service", OPTIONS, "loaded")).toMatchObject({ created: true, replaced: false });
    expect(await registry.units.replace("a.service", OPTIONS, "loaded")).toMatchObject({ created: false, replaced: false });
    // Another writer changes the unit between the read and the write: the replace reads again.
    let raced = false;
    store.beforeTxn = () => {
      if (raced) return;
      raced = true;
      store.put(keys.unit("a.service"), { options: OPTIONS, hash: "other", desiredState: "inactive" });
    };
    expect(await registry.units.replace("a.service", OTHER_OPTIONS, "launched")).toMatchObject({ created: false, replaced: true });
    expect(registry.units.get("a.service").unit).toMatchObject({ options: OTHER_OPTIONS, desiredState: "launched" });
    expect(store.txns.filter((t) => !t.succeeded)).toHaveLength(1);
  });

  it("sets the desired state, and destroys the unit with its placement", async () => {
    const { store, registry } = fakeRegistry();
    await registry.units.create("a.service", OPTIONS, "inactive");
    await registry.units.setDesiredState("a.service", "launched");
    expect(registry.units.get("a.service").unit.desiredState).toBe("launched");
    await expect(registry.units.setDesiredState("t@.service", "launched")).rejects.toThrow('cannot activate template "t@.service"');
    await expect(registry.units.setDesiredState("b.service", "launched")).rejects.toMatchObject({ kind: "not-found", message: "Unit b.service not found" });
    store.put(keys.schedule("a.service"), { machineId: "0123456789abcdef0123456789abcdef", reason: "" });
    await registry.units.destroy("a.service");
    expect(store.value(keys.unit("a.service"))).toBeUndefined();
    expect(store.value(keys.schedule("a.service"))).toBeUndefined();
    await expect(registry.units.destroy("a.service")).rejects.toMatchObject({ kind: "not-found" });
    // Not re-sent blindly: a retry after an applied destroy would answer "not found".
    expect(store.txns.at(-1)?.op).toBe("txn-once");
  });
});

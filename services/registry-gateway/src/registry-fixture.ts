// A Registry over a FakeStore, for the record kinds' unit tests.
import type { UnitOption } from "@fleet/domain";
import { createLogger } from "@fleet/wire";
import { FakeStore } from "./fake-store.js";
import { Keys } from "./keys.js";
import { Registry } from "./registry.js";

export const keys = new Keys("/fleet/");
export const M1 = "0123456789abcdef0123456789abcdef";
export const M2 = "fedcba9876543210fedcba9876543210";
export const OPTIONS: UnitOption[] = [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }];
export const OTHER_OPTIONS: UnitOption[] = [{ section: "Service", name: "ExecStart", value: "/bin/true" }];

export function fakeRegistry(): { store: FakeStore; registry: Registry } {
  const store = new FakeStore(keys);
  return { store, registry: new Registry(store, keys, createLogger("registry-test", "silent")) };
}

export const machine = (id: string, publicIp = "10.0.0.1") => ({ id, publicIp, metadata: {} });

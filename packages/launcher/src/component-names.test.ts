import { describe, expect, it } from "vitest";
import { engineNames, isComponentName, replicaNames } from "./component-names.js";

describe("component names", () => {
  it("one replica keeps the bare name, several are numbered from 1", () => {
    expect(replicaNames("etcd", 1)).toEqual(["etcd"]);
    expect(replicaNames("etcd", 3)).toEqual(["etcd-1", "etcd-2", "etcd-3"]);
    expect(replicaNames("registry-gateway", 1)).toEqual(["registry-gateway"]);
    expect(replicaNames("registry-gateway", 2)).toEqual(["registry-gateway-1", "registry-gateway-2"]);
    expect(engineNames(2)).toEqual(["engine-1", "engine-2"]);
    expect(() => replicaNames("etcd", 0)).toThrow();
  });
  it("tells component-like names (which machines may not take) from the rest", () => {
    const taken = ["etcd", "etcd-1", "etcd-12", "nats", "api", "registry-gateway", "registry-gateway-3", "engine", "engine-2"];
    const free = ["m1", "etcd1", "etcd-", "etcd-a", "web-api", "apis", "nats-x", "gateway-1", "engine-1-b"];
    for (const n of taken) expect(isComponentName(n), n).toBe(true);
    for (const n of free) expect(isComponentName(n), n).toBe(false);
  });
});

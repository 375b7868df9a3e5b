import { describe, expect, it } from "vitest";
import { etcdArgs, etcdRejoinArgv, initialClusterString, leaderIdOf } from "./etcd.js";

const member = (name: string, base: number) => ({ name, dataDir: `/d/${name}-data`, clientPort: base, peerPort: base + 1, metricsPort: base + 2 });

describe("etcd command lines", () => {
  it("static bootstrap list of every member's peer URL", () => {
    expect(initialClusterString([member("etcd-1", 2000), member("etcd-2", 3000), member("etcd-3", 4000)])).toBe(
      "etcd-1=http://127.0.0.1:2001,etcd-2=http://127.0.0.1:3001,etcd-3=http://127.0.0.1:4001",
    );
  });
  it("a member of a cluster: own ports and data dir, the whole initial cluster, a token", () => {
    const initialCluster = initialClusterString([member("etcd-1", 2000), member("etcd-2", 3000)]);
    const a = etcdArgs({ ...member("etcd-2", 3000), initialCluster, clusterToken: "fleet-c1" });
    const flag = (f: string) => a[a.indexOf(f) + 1];
    expect(flag("--name")).toBe("etcd-2");
    expect(flag("--data-dir")).toBe("/d/etcd-2-data");
    expect(flag("--listen-client-urls")).toBe("http://127.0.0.1:3000");
    expect(flag("--advertise-client-urls")).toBe("http://127.0.0.1:3000");
    expect(flag("--listen-peer-urls")).toBe("http://127.0.0.1:3001");
    expect(flag("--initial-advertise-peer-urls")).toBe("http://127.0.0.1:3001");
    expect(flag("--listen-metrics-urls")).toBe("http://127.0.0.1:3002");
    expect(flag("--initial-cluster")).toBe(initialCluster);
    expect(flag("--initial-cluster-state")).toBe("new");
    expect(flag("--initial-cluster-token")).toBe("fleet-c1");
  });
  it("a lone member founds a cluster of itself, without a token", () => {
    const a = etcdArgs(member("etcd", 2000));
    expect(a[a.indexOf("--initial-cluster") + 1]).toBe("etcd=http://127.0.0.1:2001");
    expect(a).not.toContain("--initial-cluster-token");
  });
  it("a restarted member rejoins: only the initial cluster state changes", () => {
    const argv = ["/usr/bin/etcd", ...etcdArgs({ ...member("etcd-1", 2000), initialCluster: "x", clusterToken: "t" })];
    const again = etcdRejoinArgv(argv);
    expect(again[again.indexOf("--initial-cluster-state") + 1]).toBe("existing");
    expect(again.filter((x, i) => x !== argv[i])).toEqual(["existing"]);
    expect(etcdRejoinArgv(again)).toEqual(again);
  });
});

describe("leaderIdOf", () => {
  it("reads plain and JSON leadership values", () => {
    expect(leaderIdOf("engine-1")).toBe("engine-1");
    expect(leaderIdOf(JSON.stringify({ id: "engine-2", since: 1 }))).toBe("engine-2");
  });
});

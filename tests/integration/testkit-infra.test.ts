// testkit's real etcd and NATS (Debian's binaries, installed by scripts/install.sh): they
// start healthy on loopback and leave nothing behind.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { etcdHealthy, isAlive, splitHostPort, tcpAccepts } from "@fleet/launcher";
import { withEtcdAndNats } from "@fleet/testkit";

describe("local etcd + NATS", () => {
  it("start healthy on loopback and stop without leftovers", async () => {
    let procs: Array<{ pid: number; startTime?: string }> = [];
    let dataDir = "";
    await withEtcdAndNats(async ({ etcd, nats }) => {
      expect(etcd.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(nats.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(await etcdHealthy(etcd.metricsUrl)).toBe(true);
      const { host, port } = splitHostPort(nats.url);
      expect(await tcpAccepts(host, port)).toBe(true);
      procs = [{ pid: etcd.pid, startTime: etcd.startTime }, { pid: nats.pid, startTime: nats.startTime }];
      dataDir = etcd.dataDir;
      expect(existsSync(dataDir)).toBe(true);
    });
    // By PID and start time: a PID the kernel hands out again is not ours.
    expect(procs.map((p) => isAlive(p))).toEqual([false, false]);
    expect(existsSync(dataDir)).toBe(false);
  }, 30_000);
});

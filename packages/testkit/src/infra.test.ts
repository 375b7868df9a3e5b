// Real etcd and NATS binaries (fast: well under a second each); skipped where absent.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ETCD_BIN, etcdHealthy } from "./etcd.js";
import { withEtcdAndNats } from "./fixtures.js";
import { NATS_BIN } from "./nats.js";
import { splitHostPort, tcpAccepts } from "./ports.js";
import { isAlive } from "./proc.js";

describe.skipIf(!existsSync(ETCD_BIN) || !existsSync(NATS_BIN))("local etcd + NATS", () => {
  it("start healthy on loopback and stop without leftovers", async () => {
    let pids: number[] = [];
    let dataDir = "";
    await withEtcdAndNats(async ({ etcd, nats }) => {
      expect(etcd.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(nats.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(await etcdHealthy(etcd.metricsUrl)).toBe(true);
      const { host, port } = splitHostPort(nats.url);
      expect(await tcpAccepts(host, port)).toBe(true);
      pids = [etcd.pid, nats.pid];
      dataDir = etcd.dataDir;
      expect(existsSync(dataDir)).toBe(true);
    });
    expect(pids.map((p) => isAlive(p))).toEqual([false, false]);
    expect(existsSync(dataDir)).toBe(false);
  }, 30_000);
});

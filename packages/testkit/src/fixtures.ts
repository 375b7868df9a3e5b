// Fixtures for integration tests: a fresh etcd + NATS pair on loopback.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEtcd, startNats, type EtcdHandle, type NatsHandle } from "@fleet/launcher";

export interface EtcdAndNats {
  etcd: EtcdHandle;
  nats: NatsHandle;
  dir: string;
  stop(): Promise<void>;
}

/** Starts etcd and NATS (in parallel) in a fresh temp dir. Call stop() in afterAll. */
export async function startEtcdAndNats(o: { dir?: string } = {}): Promise<EtcdAndNats> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "fleet-testkit-"));
  const [e, n] = await Promise.allSettled([startEtcd({ dir }), startNats({ dir })]);
  if (e.status === "rejected" || n.status === "rejected") {
    if (e.status === "fulfilled") await e.value.stop();
    if (n.status === "fulfilled") await n.value.stop();
    throw e.status === "rejected" ? e.reason : (n as PromiseRejectedResult).reason;
  }
  const etcd = e.value;
  const nats = n.value;
  return {
    etcd,
    nats,
    dir,
    stop: async () => {
      await Promise.all([etcd.stop(), nats.stop()]);
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs fn with a fresh etcd + NATS, stopping both afterwards whatever happens. */
export async function withEtcdAndNats<T>(fn: (env: EtcdAndNats) => Promise<T>, o: { dir?: string } = {}): Promise<T> {
  const env = await startEtcdAndNats(o);
  try {
    return await fn(env);
  } finally {
    await env.stop();
  }
}

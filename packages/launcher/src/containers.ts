// The testcontainers backend (used only where a Docker engine is reachable). There is no
// host PID: pid is -1 and stop() stops the container.
import type { EtcdHandle } from "./etcd.js";
import type { NatsHandle } from "./nats.js";

const ETCD_IMAGE = "quay.io/coreos/etcd:v3.5.17";
const NATS_IMAGE = "nats:2.10-alpine";

export async function startEtcdContainer(): Promise<EtcdHandle> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const c = await new GenericContainer(ETCD_IMAGE)
    .withExposedPorts(2379, 2381)
    .withCommand([
      "etcd",
      "--name", "etcd",
      "--data-dir", "/tmp/etcd-data",
      "--listen-client-urls", "http://0.0.0.0:2379",
      "--advertise-client-urls", "http://127.0.0.1:2379",
      "--listen-metrics-urls", "http://0.0.0.0:2381",
    ])
    .withWaitStrategy(Wait.forHttp("/health", 2381).forStatusCode(200))
    .start();
  const host = c.getHost();
  return {
    endpoint: `http://${host}:${c.getMappedPort(2379)}`,
    metricsUrl: `http://${host}:${c.getMappedPort(2381)}`,
    pid: -1,
    startTime: "",
    dataDir: "",
    logFile: "",
    argv: [],
    stop: async () => {
      await c.stop();
    },
  };
}

export async function startNatsContainer(): Promise<NatsHandle> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const c = await new GenericContainer(NATS_IMAGE)
    .withExposedPorts(4222, 8222)
    .withCommand(["-m", "8222"])
    .withWaitStrategy(Wait.forListeningPorts())
    .start();
  const host = c.getHost();
  return {
    url: `nats://${host}:${c.getMappedPort(4222)}`,
    monitorUrl: `http://${host}:${c.getMappedPort(8222)}`,
    pid: -1,
    startTime: "",
    logFile: "",
    argv: [],
    stop: async () => {
      await c.stop();
    },
  };
}

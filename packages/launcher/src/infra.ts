// startEtcd / startNats: pick the backend once, then start.
import { selectBackend, type Backend } from "./backend.js";
import { startEtcdContainer, startNatsContainer } from "./containers.js";
import { startEtcdLocal, type EtcdHandle, type EtcdOptions } from "./etcd.js";
import { startNatsLocal, type NatsHandle, type NatsOptions } from "./nats.js";

export async function startEtcd(o: EtcdOptions & { backend?: Backend }): Promise<EtcdHandle> {
  const backend = o.backend ?? (await selectBackend());
  return backend === "docker" ? startEtcdContainer() : startEtcdLocal(o);
}

export async function startNats(o: NatsOptions & { backend?: Backend }): Promise<NatsHandle> {
  const backend = o.backend ?? (await selectBackend());
  return backend === "docker" ? startNatsContainer() : startNatsLocal(o);
}

// Where etcd and NATS come from: testcontainers where a Docker engine is reachable, else
// the Debian binaries (/usr/bin/etcd, /usr/sbin/nats-server) as local processes.
import { connect } from "node:net";
import { existsSync } from "node:fs";

export type Backend = "local" | "docker";

/** The one place the choice is made. FLEET_TESTKIT_BACKEND=local|docker overrides. */
export async function selectBackend(env: NodeJS.ProcessEnv = process.env): Promise<Backend> {
  const forced = env.FLEET_TESTKIT_BACKEND;
  if (forced === "local" || forced === "docker") return forced;
  if (env.DOCKER_HOST) return "docker";
  return (await dockerSocketAnswers("/var/run/docker.sock")) ? "docker" : "local";
}

function dockerSocketAnswers(path: string): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const sock = connect({ path });
    let data = "";
    const done = (ok: boolean) => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.once("error", () => done(false));
    sock.on("data", (b) => {
      data += b.toString();
      if (/^HTTP\/1\.[01] 200/.test(data)) done(true);
      else if (data.includes("\r\n")) done(false);
    });
    sock.once("connect", () => sock.write("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"));
  });
}

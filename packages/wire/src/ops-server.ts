// What a process offers whoever runs it, on metrics_listen: Prometheus metrics (/metrics), and
// probes: /healthz (the process answers) and /readyz (it can do its job: 503 with the reason
// while it cannot). Plain HTTP, as Prometheus and the kubelet expect.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConfigSchema } from "@fleet/domain";
import { parseHostPort } from "./endpoint-list.js";
import type { Logger } from "./logger.js";
import { metricsRegistry } from "./metrics.js";

export const metricsConfigSchema = {
  metrics_listen: { kind: "string", default: "", help: "host:port where /metrics (Prometheus), /healthz and /readyz are served over plain HTTP; empty: not served" },
} as const satisfies ConfigSchema;

/** Why the process is not ready yet, or undefined when it is. */
export type Readiness = () => string | undefined;

export interface OpsServer {
  readonly server: Server;
  /** http://host:port */
  readonly url: string;
  close(): Promise<void>;
}

function hostPortOf(listen: string): { host: string; port: number } {
  const hp = parseHostPort(listen);
  if (typeof hp === "string") throw new Error(`invalid value for metrics_listen: ${JSON.stringify(listen)} ${hp}`);
  return hp;
}

/** Serves /metrics, /healthz and /readyz on `listen` (host:port); undefined when `listen` is "". */
export async function startOpsServer(listen: string, ready: Readiness, log: Logger): Promise<OpsServer | undefined> {
  if (listen === "") return undefined;
  const { host, port } = hostPortOf(listen);
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const text = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return text(405, "only GET and HEAD\n");
    if (path === "/healthz") return text(200, "ok\n");
    if (path === "/readyz") {
      const why = ready();
      return why === undefined ? text(200, "ready\n") : text(503, `not ready: ${why}\n`);
    }
    if (path === "/metrics") {
      metricsRegistry.metrics().then(
        (body) => text(200, body, metricsRegistry.contentType),
        (err: unknown) => text(500, `metrics failed: ${(err as Error).message}\n`),
      );
      return;
    }
    text(404, `no ${path} here: /metrics, /healthz and /readyz\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const url = `http://${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`;
  log.info({ url }, "serving /metrics, /healthz and /readyz");
  return {
    server,
    url,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

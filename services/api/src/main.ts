// api: the user-facing surface. Serves FleetService (fleetctl) over gRPC, backed by the gateway,
// and fleet's HTTP API v1 (unix socket and/or TCP) over that same FleetService; both read units
// from the api's read replica (read-replica.ts) while it follows the gateway.
import {
  connect,
  connectGateways,
  createLogger,
  FleetServiceClient,
  FleetServiceService,
  channelCredentials,
  channelCredentialsForName,
  configureTlsFromConfig, fleetVersion, healthFollows, httpsServerOptions, loadServiceConfig, notifySystemdReady, startOpsServer, startProcessMetrics,
  runMain,
  serve,
  shutdown,
  type Logger,
} from "@fleet/wire";
import type { Server } from "node:http";
import { apiConfigSchema, DEFAULT_API_UNIX_SOCKET, unixSocketPath, validateApiConfig, type ApiConfig } from "./config.js";
import { fleetService } from "./fleet-service.js";
import { readFileSync } from "node:fs";
import { isRole } from "@fleet/domain";
import { AuditLog } from "./auth/audit-log.js";
import { Authenticator, parseCertificateRoles, type AuthOptions } from "./auth/authenticator.js";
import { ReadReplica } from "./read-replica.js";
import { grpcFleetBackend } from "./http/grpc-fleet-backend.js";
import { replicaFleetBackend } from "./http/replica-fleet-backend.js";
import { createHttpApiServer } from "./http/http-server.js";
import { closeServer, listenTcp, listenUnix } from "./http/listen.js";

/** Where the api reaches its own gRPC server: a wildcard host becomes loopback. */
function selfAddress(listen: string, port: number): string {
  if (listen.startsWith("unix:")) return listen;
  const host = listen.slice(0, listen.lastIndexOf(":"));
  const local = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "[::]" ? "[::1]" : host;
  return `${local}:${port}`;
}

/** The api's auth settings from its config; errors name the option. */
function authOptions(config: ApiConfig): AuthOptions {
  let bootstrapSecret: string | undefined;
  if (config.auth_bootstrap_token_file !== "") {
    try {
      bootstrapSecret = readFileSync(config.auth_bootstrap_token_file, "utf8").trim();
    } catch (err) {
      throw new Error(`cannot read auth_bootstrap_token_file ${config.auth_bootstrap_token_file}: ${(err as Error).message}`);
    }
    if (bootstrapSecret.length < 32) throw new Error(`auth_bootstrap_token_file ${config.auth_bootstrap_token_file}: a token of at least 32 characters is expected`);
  }
  return {
    enabled: config.auth,
    certificateRoles: parseCertificateRoles(config.auth_certificate_roles),
    ...(bootstrapSecret ? { bootstrapSecret } : {}),
    ...(isRole(config.api_unix_socket_role) ? { socketRole: config.api_unix_socket_role } : {}),
  };
}

/** HTTP API v1 servers per the config. The default socket path is best effort (it needs root). */
async function serveHttpApi(config: ApiConfig, client: FleetServiceClient, reads: ReadReplica, auth: Authenticator, log: Logger): Promise<Server[]> {
  const https = httpsServerOptions();
  const make = (tcp: boolean) =>
    createHttpApiServer({
      backend: replicaFleetBackend(reads, grpcFleetBackend(client, auth)),
      tokenLimit: config.token_limit,
      log,
      authenticate: (creds) => auth.principal(creds),
      // TCP over TLS when the api has a certificate (fleet 1.0's fleetctl: --endpoint https://...
      // --cert-file --key-file); the unix socket stays plain.
      ...(https && tcp ? { https } : {}),
    });
  const servers: Server[] = [];
  const socket = unixSocketPath(config);
  if (socket !== "") {
    const server = make(false);
    try {
      await listenUnix(server, socket, config.api_unix_socket_group);
      servers.push(server);
      log.info({ socket }, "HTTP API v1 serving on unix socket");
    } catch (err) {
      if (config.api_unix_socket !== DEFAULT_API_UNIX_SOCKET) throw new Error(`api_unix_socket ${socket}: ${(err as Error).message}`);
      log.warn({ socket, err: (err as Error).message }, "HTTP API v1 not served on the default unix socket");
    }
  }
  if (config.api_http_listen !== "") {
    const server = make(true);
    const port = await listenTcp(server, config.api_http_listen).catch((err: unknown) => {
      throw new Error(`api_http_listen ${config.api_http_listen}: ${(err as Error).message}`);
    });
    servers.push(server);
    log.info({ address: config.api_http_listen, port }, "HTTP API v1 serving on TCP");
  }
  return servers;
}

runMain(async () => {
  const config = loadServiceConfig(apiConfigSchema);
  configureTlsFromConfig(config);
  validateApiConfig(config);
  const log = createLogger("api", config.verbosity);
  startProcessMetrics("api", fleetVersion());
  if (!config.auth) log.warn({ api_listen: config.api_listen, api_http_listen: config.api_http_listen }, "auth is off: anyone who reaches the api is an admin; it serves only loopback and its unix socket");
  // Every registry-gateway listed, failing over between them (RegistryConnection).
  const gateway = connectGateways(config.gateway_endpoint);
  // Unit reads are answered from a replica the gateway keeps up to date (read-replica.ts).
  const reads = new ReadReplica(gateway, log);
  reads.start();
  const auth = new Authenticator(gateway, authOptions(config));
  const audit = new AuditLog(gateway, log);
  // With auth on, fleetctl may come with a token and no client certificate, even under mutual TLS.
  const agentCredentials = config.agent_tls_server_name ? channelCredentialsForName(config.agent_tls_server_name) : channelCredentials();
  const { server, port, health } = await serve(config.api_listen, [[FleetServiceService, fleetService(gateway, log, reads, { auth, audit }, agentCredentials)]], {
    optionalClientCertificate: config.auth,
    reflection: "fleet/v1",
  });
  // Ready while its read replica follows a gateway (one answers, and has etcd).
  const ready = () => (reads.synced ? undefined : "not following a registry-gateway's cluster stream");
  const stopHealth = healthFollows(health, ready);
  const ops = await startOpsServer(config.metrics_listen, ready, log);
  log.info({ address: config.api_listen, port, gateway: config.gateway_endpoint }, "api serving");
  const self = connect(FleetServiceClient, selfAddress(config.api_listen, port));
  const httpServers = await serveHttpApi(config, self, reads, auth, log);
  notifySystemdReady(log);
  const stop = async () => {
    stopHealth();
    await ops?.close();
    await Promise.all(httpServers.map((s) => closeServer(s)));
    self.close();
    reads.stop();
    await shutdown(server);
    gateway.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
});

// api: the user-facing surface. Serves FleetService (fleetctl) over gRPC, backed by the gateway.
import { connect, createLogger, FleetServiceService, loadServiceConfig, RegistryServiceClient, runMain, serve, shutdown } from "@fleet/wire";
import { apiConfigSchema } from "./config.js";
import { fleetService } from "./fleet-service.js";

runMain(async () => {
  const config = loadServiceConfig(apiConfigSchema);
  const log = createLogger("api", config.verbosity);
  const gateway = connect(RegistryServiceClient, config.gateway_endpoint);
  const { server, port } = await serve(config.api_listen, [[FleetServiceService, fleetService(gateway, log)]]);
  log.info({ address: config.api_listen, port, gateway: config.gateway_endpoint }, "api serving");
  const stop = async () => {
    await shutdown(server);
    gateway.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
});

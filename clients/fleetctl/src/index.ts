// fleetctl as a library: the same entry point the executable uses, for tests and tools.
export { runFleetctl, normalizeEndpoint, COMMANDS, GLOBAL_FLAGS, DEFAULT_ENDPOINT, type FleetctlDeps } from "./cli.js";
export type { FleetApi, UnitView } from "./fleet-api.js";
export { FakeFleetApi, type FakeCall, type FakeFleetApiOptions } from "./fake-fleet-api.js";
export { grpcFleetApi } from "./grpc-fleet-api.js";

// fleetctl as a library: the same entry point the executable uses, for tests and tools.
export { runFleetctl, COMMANDS, GLOBAL_FLAGS, DEFAULT_ENDPOINT, type FleetctlDeps, type ConnectOptions, type Tunnel } from "./cli.js";
export { parseEndpoint, type Endpoint } from "./endpoint.js";
export type { FleetApi, UnitView, UnitStatus, JournalOptions, JournalStream } from "./fleet-api.js";
export { FakeFleetApi, type FakeCall, type FakeFleetApiOptions } from "./fake-fleet-api.js";
export { grpcFleetApi } from "./grpc-fleet-api.js";
export { httpFleetApi } from "./http-fleet-api.js";

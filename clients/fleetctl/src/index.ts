// fleetctl as a library: the same entry point the executable uses, for tests and tools.
export { runFleetctl } from "./cli/cli.js";
export { COMMANDS } from "./cli/command-table.js";
export type { FleetctlDeps, ConnectOptions, Tunnel } from "./cli/deps.js";
export { GLOBAL_FLAGS, DEFAULT_ENDPOINT } from "./cli/global-flags.js";
export { parseEndpoint, type Endpoint } from "./endpoint/endpoint.js";
export type { FleetApi, UnitView, UnitStatus, JournalOptions, JournalStream } from "./api/fleet-api.js";
export { FakeFleetApi, type FakeCall, type FakeFleetApiOptions } from "./api/fake-fleet-api.js";
export { grpcFleetApi } from "./api/grpc-fleet-api.js";
export { httpFleetApi } from "./api/http-fleet-api.js";

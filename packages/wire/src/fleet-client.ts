// The slice of @fleet/wire a FleetService client needs, without the server, logging and NATS
// modules: fleetctl starts faster loading only this.
export * from "./gen/fleet/v1/types.pb.js";
export * from "./gen/fleet/v1/fleet.pb.js";
export * from "./convert.js";
export * from "./errors.js";
export * from "./client.js";
export * from "./call-outcome.js";
export * from "./tls.js";
export type { ClientReadableStream } from "@grpc/grpc-js";
export { Metadata } from "@grpc/grpc-js";

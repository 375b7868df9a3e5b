export * from "./gen/fleet/v1/types.pb.js";
export * from "./gen/fleet/v1/registry.pb.js";
export * from "./gen/fleet/v1/fleet.pb.js";
export * from "./gen/fleet/v1/agent.pb.js";
export * from "./convert.js";
export * from "./errors.js";
export * from "./client.js";

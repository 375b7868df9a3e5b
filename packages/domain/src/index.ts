export * from "./types.js";
export * from "./config.js";
export * from "./x-fleet.js";
export * from "./scheduler.js";
export * from "./agent-plan.js";
export * from "./hints.js";
export * from "./reconcile-loop.js";

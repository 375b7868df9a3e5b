// The scheduler's public face: the decision (decideSchedule), the engine's incremental form of
// it (IncrementalScheduler), the Plan they return, and the matching rules the agents and the
// unit checks share (globs, MachineMetadata, global units' eligibility). README.md has the rules.
export * from "./scheduler.js";
export * from "./incremental-scheduler.js";
export * from "./plan.js";
export * from "./glob.js";
export * from "./metadata-match.js";
export * from "./global-eligibility.js";

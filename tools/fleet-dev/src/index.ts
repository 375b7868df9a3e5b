export * from "./args.js";
export * from "./format.js";

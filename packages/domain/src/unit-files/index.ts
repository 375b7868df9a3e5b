// Unit files: parsing and serializing them (fleet's and systemd's dialects), their hash,
// systemd specifiers, and the [X-Fleet] section (vocabulary, requirements, validation).
export * from "./unit-file.js";
export * from "./unit-hash.js";
export * from "./specifiers.js";
export * from "./x-fleet-options.js";
export * from "./x-fleet.js";
export * from "./x-fleet-validation.js";

// verify: signed units are deprecated in fleet; the command is kept so scripts get a clear answer.
import type { Command } from "./command.js";
import { warn } from "./context.js";

export const verifyCommand: Command = {
  name: "verify",
  summary: "DEPRECATED: verify unit file signatures",
  usage: "UNIT",
  description: "Signed units are DEPRECATED in fleet and not supported: this command only says so.",
  flags: [],
  needsApi: false,
  async run(ctx) {
    warn(ctx, "WARNING: The signed/verified units feature is DEPRECATED and cannot be used.");
    return 2;
  },
};

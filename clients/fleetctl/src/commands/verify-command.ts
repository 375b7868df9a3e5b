// verify: signed units are deprecated in fleet; the command is kept so scripts get a clear answer.
import type { Command } from "./command.js";
import { warn } from "../context/context.js";

export const verifyCommand: Command = {
  name: "verify",
  // fleet 1.0 declared it deprecated (cobra's Deprecated) with no summary or description.
  summary: "",
  usage: "UNIT",
  description: "",
  flags: [],
  needsApi: false,
  async run(ctx) {
    warn(ctx, 'Command "verify" is deprecated, DEPRECATED - No longer works');
    warn(ctx, "WARNING: The signed/verified units feature is DEPRECATED and cannot be used.");
    return 2;
  },
};

// cat: the unit file as stored, exactly (fleet's serialization, no newline added).
import { serializeUnitFile } from "@fleet/domain";
import type { UnitView } from "../api/fleet-api.js";
import { unitNameOfArg } from "../units/unit-args.js";
import type { Command } from "./command.js";
import { errorMessage, warn } from "../context/context.js";

export const catCommand: Command = {
  name: "cat",
  summary: "Output the contents of a submitted unit",
  usage: "UNIT",
  description: `Outputs the unit file that is currently loaded in the cluster. Useful to verify
the correct version of a unit is running.`,
  flags: [],
  async run(ctx, _flags, args) {
    if (args.length !== 1) {
      warn(ctx, "One unit file must be provided");
      return 1;
    }
    const name = unitNameOfArg(args[0] ?? "");
    let view: UnitView | undefined;
    try {
      view = await ctx.api.getUnit(name);
    } catch (err) {
      warn(ctx, `Error retrieving Unit ${name}: ${errorMessage(err)}`);
      return 1;
    }
    if (!view) {
      warn(ctx, `Unit ${name} not found`);
      return 1;
    }
    // Exactly the unit's contents: no newline added.
    ctx.output.stdout(serializeUnitFile(view.unit.options));
    return 0;
  },
};

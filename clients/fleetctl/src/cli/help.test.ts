import { describe, expect, it } from "vitest";
import type { FlagSpec } from "../commands/argv.js";
import { commandHelp, flagUsages } from "./help.js";

describe("flagUsages (pflag's FlagUsages)", () => {
  it("sorts by name, names the value's type, aligns the usages, and shows defaults that are not zero", () => {
    const flags: FlagSpec[] = [
      { name: "no-legend", kind: "bool", default: false, usage: "No legend" },
      { name: "fields", kind: "string", default: "unit,machine", usage: "Columns" },
      { name: "full", kind: "bool", default: false, short: "l", usage: "Full" },
      { name: "block-attempts", kind: "int", default: 0, usage: "Attempts" },
      { name: "request-timeout", kind: "float", default: 3, usage: "Timeout" },
      { name: "strict", kind: "bool", default: true, usage: "Strict" },
      { name: "empty", kind: "string", default: "", usage: "Nothing" },
    ];
    expect(flagUsages(flags)).toBe(
      [
        "      --block-attempts int     Attempts",
        "      --empty string           Nothing",
        '      --fields string          Columns (default "unit,machine")',
        "  -l, --full                   Full",
        "      --no-legend              No legend",
        "      --request-timeout float  Timeout (default 3)",
        "      --strict                 Strict (default true)",
        "",
      ].join("\n"),
    );
  });
});

describe("commandHelp (fleet 1.0's usage template)", () => {
  it("NAME, USAGE, DESCRIPTION (trimmed, each line after a tab), OPTIONS, GLOBAL OPTIONS, then a blank line", () => {
    const command = {
      name: "cat",
      summary: "Output the contents of a submitted unit",
      usage: "UNIT",
      description: "\nOutputs the unit file.\n\nExample:\n\tfleetctl cat foo.service\n",
      flags: [{ name: "full", kind: "bool", default: false, usage: "Full" } as const],
    };
    const global: FlagSpec[] = [{ name: "debug", kind: "bool", default: false, usage: "Debug" }];
    expect(commandHelp(command, global)).toBe(
      "NAME:\n\tcat - Output the contents of a submitted unit\n\nUSAGE:\n\tfleetctl cat UNIT\n\n" +
        "DESCRIPTION:\n\tOutputs the unit file.\n\t\n\tExample:\n\t\tfleetctl cat foo.service\n\n" +
        "OPTIONS:\n      --full  Full\n\nGLOBAL OPTIONS:\n      --debug  Debug\n\n",
    );
  });

  it("leaves out DESCRIPTION and OPTIONS when there are none", () => {
    const command = { name: "unload", summary: "Unschedule one or more units in the cluster.", usage: "UNIT...", description: "", flags: [] };
    expect(commandHelp(command, [])).toBe("NAME:\n\tunload - Unschedule one or more units in the cluster.\n\nUSAGE:\n\tfleetctl unload UNIT...\n\nGLOBAL OPTIONS:\n\n");
  });
});

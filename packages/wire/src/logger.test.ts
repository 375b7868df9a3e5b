import { describe, expect, it } from "vitest";
import { logLevel } from "./logger.js";

describe("logLevel", () => {
  it.each([
    ["info", "info"],
    ["DEBUG", "debug"],
    ["0", "info"],
    ["1", "debug"],
    ["2", "trace"],
    ["silent", "silent"],
  ])("verbosity %s -> %s", (input, want) => expect(logLevel(input)).toBe(want));

  it.each(["loud", "-1", ""])("refuses %j naming the option", (input) => expect(() => logLevel(input)).toThrow("invalid value for verbosity"));
});

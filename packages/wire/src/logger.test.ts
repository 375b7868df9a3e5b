import { describe, expect, it } from "vitest";
import { createLogger, logLevel } from "./logger.js";

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

describe("createLogger", () => {
  it("writes JSON lines with the level by name, an ISO time, the service and the fields given", () => {
    const lines: string[] = [];
    const log = createLogger("engine", "info", { write: (line: string) => void lines.push(line) });
    log.child({ unit: "web.service" }).warn({ machineId: "m1" }, "moved");
    log.debug("not at info");
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(entry).toMatchObject({ level: "warn", service: "engine", unit: "web.service", machineId: "m1", msg: "moved" });
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});

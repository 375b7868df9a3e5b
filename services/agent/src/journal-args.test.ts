import { describe, expect, it } from "vitest";
import { journalArgs, statusArgs } from "./journal-args.js";

describe("statusArgs", () => {
  it("ends options before the unit name", () => {
    expect(statusArgs("hello.service")).toEqual(["systemctl", "status", "--no-pager", "--full", "--lines=10", "--", "hello.service"]);
  });
  it.each(["-h", "a b.service", "../x.service", ""])("refuses %j", (name) => expect(() => statusArgs(name)).toThrow());
});

describe("journalArgs", () => {
  it.each([
    [{ unit: "a.service", lines: 10, follow: false, output: "" }, ["journalctl", "--no-pager", "--unit=a.service", "--lines=10", "--output=short"]],
    [
      { unit: "a.service", lines: 0, follow: true, output: "json" },
      ["journalctl", "--no-pager", "--unit=a.service", "--lines=0", "--output=json", "--follow"],
    ],
  ])("%j", (input, want) => expect(journalArgs(input)).toEqual(want));

  it.each([
    [{ unit: "a.service", lines: 10, follow: false, output: "bogus" }, "invalid output mode"],
    [{ unit: "a.service", lines: -1, follow: false, output: "" }, "invalid number of lines"],
    [{ unit: "a.service", lines: 1.5, follow: false, output: "" }, "invalid number of lines"],
    [{ unit: "--all", lines: 10, follow: false, output: "" }, "invalid unit name"],
  ])("refuses %j", (input, message) => expect(() => journalArgs(input)).toThrow(message));
});

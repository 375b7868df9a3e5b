import { describe, expect, it } from "vitest";
import { globError, globLiteralPrefix, globMatches, isLiteralGlob } from "./glob.js";

describe("globMatches (Go path.Match)", () => {
  it.each([
    { pattern: "web.service", name: "web.service", want: true },
    { pattern: "web.service", name: "web2.service", want: false },
    { pattern: "web@*.service", name: "web@1.service", want: true },
    { pattern: "web@*.service", name: "web@.service", want: true },
    { pattern: "web@*.service", name: "web.service", want: false },
    { pattern: "*", name: "anything.service", want: true },
    { pattern: "web?.service", name: "web1.service", want: true },
    { pattern: "web?.service", name: "web12.service", want: false },
    { pattern: "web[0-9].service", name: "web7.service", want: true },
    { pattern: "web[0-9].service", name: "webx.service", want: false },
    { pattern: "web[^0-9].service", name: "webx.service", want: true },
    { pattern: "web[^0-9].service", name: "web7.service", want: false },
    { pattern: "web[abc].service", name: "webb.service", want: true },
    { pattern: "a\\*b.service", name: "a*b.service", want: true },
    { pattern: "a\\*b.service", name: "axb.service", want: false },
    { pattern: "a.b", name: "aXb", want: false },
    { pattern: "web[", name: "web[", want: false },
    { pattern: "web\\", name: "web\\", want: false },
    { pattern: "[]a]", name: "]", want: false },
  ])("$pattern ~ $name = $want", ({ pattern, name, want }) => {
    expect(globMatches(pattern, name)).toBe(want);
  });

  it("reports malformed patterns", () => {
    expect(globError("web[")).toMatch(/malformed character class/);
    expect(globError("web\\")).toMatch(/backslash/);
    expect(globError("[z-a]")).toMatch(/malformed/);
    expect(globError("web@*.service")).toBeUndefined();
  });

  it("knows literal patterns and literal prefixes", () => {
    expect(isLiteralGlob("db.service")).toBe(true);
    expect(isLiteralGlob("db*.service")).toBe(false);
    expect(globLiteralPrefix("web@*.service")).toBe("web@");
    expect(globLiteralPrefix("*.service")).toBe("");
    expect(globLiteralPrefix("db.service")).toBe("db.service");
  });
});

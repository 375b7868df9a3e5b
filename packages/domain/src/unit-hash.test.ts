import { describe, expect, it } from "vitest";
import type { UnitOption } from "./types.js";
import { parseUnitFile } from "./unit-file.js";
import { shortHash, unitHash } from "./unit-hash.js";

const o = (section: string, name: string, value: string): UnitOption => ({ section, name, value });

describe("unitHash", () => {
  it("matches fleet's unit.Hash for the same contents (fleet's own test vector)", () => {
    // fleet unit/unit_test.go TestUnitHash: "[Service]\nExecStart=/bin/sleep 100\n"
    expect(unitHash(parseUnitFile("[Service]\nExecStart=/bin/sleep 100\n"))).toBe("1c6fb6f3684bafb0c173d8b8b957ceff031180c1");
  });

  const cases: { label: string; a: UnitOption[]; b: UnitOption[]; equal: boolean }[] = [
    {
      label: "formatting differences in the file do not matter",
      a: parseUnitFile("[Service]\nExecStart=/bin/sleep 100\n"),
      b: parseUnitFile("# comment\n[Service]\n  ExecStart =  /bin/sleep 100  \n\n"),
      equal: true,
    },
    {
      label: "a different value changes the hash",
      a: [o("Service", "ExecStart", "/bin/sleep 100")],
      b: [o("Service", "ExecStart", "/bin/sleep 101")],
      equal: false,
    },
    {
      label: "option order within a section matters",
      a: [o("Service", "A", "1"), o("Service", "B", "2")],
      b: [o("Service", "B", "2"), o("Service", "A", "1")],
      equal: false,
    },
    {
      label: "interleaved sections hash like grouped sections",
      a: [o("Unit", "A", "1"), o("Service", "B", "2"), o("Unit", "C", "3")],
      b: [o("Unit", "A", "1"), o("Unit", "C", "3"), o("Service", "B", "2")],
      equal: true,
    },
  ];
  for (const c of cases) {
    it(c.label, () => {
      expect(unitHash(c.a) === unitHash(c.b)).toBe(c.equal);
    });
  }

  it("is 40 lowercase hex digits, also for no options", () => {
    expect(unitHash([])).toMatch(/^[0-9a-f]{40}$/);
    expect(unitHash([])).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709");
  });
});

describe("shortHash", () => {
  it("is the first 7 hex digits", () => {
    expect(shortHash("1c6fb6f3684bafb0c173d8b8b957ceff031180c1")).toBe("1c6fb6f");
  });
});

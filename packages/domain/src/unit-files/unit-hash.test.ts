import { describe, expect, it } from "vitest";
import type { UnitOption } from "../types.js";
import { parseUnitFile } from "./unit-file.js";
import { shortHash, unitHash } from "./unit-hash.js";

const o = (section: string, name: string, value: string): UnitOption => ({ section, name, value });

describe("unitHash", () => {
  it("matches fleet's unit.Hash for the same contents (fleet's own test vector)", () => {
    // fleet unit/unit_test.go TestUnitHash: "[Service]\nExecStart=/bin/sleep 100\n"
    expect(unitHash(parseUnitFile("[Service]\nExecStart=/bin/sleep 100\n"))).toBe("1c6fb6f3684bafb0c173d8b8b957ceff031180c1");
  });

  it("keeps a backslash continuation in the value, as fleet 1.0 stores and hashes it (issue 9)", () => {
    // Recorded with the unit deserializer and serializer vendored in fleet v1.0.0.
    const options = parseUnitFile('[Service]\nExecStart=/bin/sh -c "echo a; \\\n  sleep 100000"\n');
    expect(options).toEqual([o("Service", "ExecStart", '/bin/sh -c "echo a; \\\n  sleep 100000"')]);
    expect(unitHash(options)).toBe("b49eb1304c5263f0de174f91186a3440b9a9f11b");
    // The lines joined (what this project's fleetctl stored before) is another unit.
    expect(unitHash([o("Service", "ExecStart", '/bin/sh -c "echo a;    sleep 100000"')])).toBe("f6ed1596071933642ba4e76b50507e62b72d9079");
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

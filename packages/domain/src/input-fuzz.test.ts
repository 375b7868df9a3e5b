// Property-based tests of the pure input rules (fast-check): no input makes the unit-file
// parser, the unit-name rules or the unit input checks throw anything but their own errors,
// and what they accept keeps its shape.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FleetError } from "./errors.js";
import { assertMetadataKey, assertMetadataValue, assertUnitInput } from "./input-limits.js";
import { isValidUnitName, unitNameError } from "./unit-name.js";
import { parseUnitFile, serializeUnitFile, UnitFileError } from "./unit-files/unit-file.js";

/** Strings with what breaks parsers: controls, line breaks, brackets, '=', '\\', unicode. */
const nasty = fc.string({ unit: fc.oneof(fc.constantFrom("\u0000", "\n", "\r", "\t", "[", "]", "=", "\\", "#", ";", " ", "\u001b", "\u007f", "\u0085", "\ufeff", "é", "😀"), fc.string({ minLength: 1, maxLength: 1, unit: "binary" })), maxLength: 80 });

function onlyRefusals(fn: () => void, kinds: readonly string[]): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof FleetError) || !kinds.includes(err.kind)) throw err;
  }
}

describe("fuzz: the unit-file parser", () => {
  it("parses or refuses with a UnitFileError, never anything else", () => {
    fc.assert(
      fc.property(nasty, (text) => {
        try {
          parseUnitFile(text);
        } catch (err) {
          if (!(err instanceof UnitFileError)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("a file it accepts, serialized and parsed again, gives the same options", () => {
    fc.assert(
      fc.property(nasty, (text) => {
        let options;
        try {
          options = parseUnitFile(text);
        } catch {
          return;
        }
        expect(parseUnitFile(serializeUnitFile(options))).toEqual(options);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("fuzz: unit names", () => {
  it("every string is judged without throwing; a valid name has no '/', no control character, at most 256 characters", () => {
    fc.assert(
      fc.property(fc.oneof(nasty, fc.string().map((s) => `${s}.service`)), (name) => {
        expect(typeof unitNameError(name) === "string" || unitNameError(name) === undefined).toBe(true);
        if (isValidUnitName(name)) {
          expect(name).not.toMatch(/[/\u0000-\u001f\u007f]/);
          expect(name.length).toBeLessThanOrEqual(256);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("fuzz: unit and metadata input checks", () => {
  const option = fc.record({ section: nasty, name: nasty, value: nasty });
  it("refuse with INVALID_ARGUMENT or RESOURCE_EXHAUSTED only; what they accept has no control character but a tab or a continuation", () => {
    fc.assert(
      fc.property(fc.array(option, { maxLength: 8 }), (options) => {
        let accepted = true;
        try {
          assertUnitInput("a.service", options);
        } catch (err) {
          accepted = false;
          if (!(err instanceof FleetError) || !["invalid-argument", "resource-exhausted"].includes(err.kind)) throw err;
        }
        if (accepted) for (const o of options) expect(`${o.section}${o.name}${o.value.replace(/\\\n/g, "").replace(/\t/g, "")}`).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }),
      { numRuns: 3000 },
    );
  });

  it("metadata keys and values", () => {
    fc.assert(
      fc.property(nasty, nasty, (key, value) => {
        onlyRefusals(() => assertMetadataKey(key), ["invalid-argument"]);
        onlyRefusals(() => assertMetadataValue(key, value), ["invalid-argument", "resource-exhausted"]);
      }),
      { numRuns: 3000 },
    );
  });
});

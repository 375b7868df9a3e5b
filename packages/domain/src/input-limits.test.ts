import { describe, expect, it } from "vitest";
import { FleetError } from "./errors.js";
import {
  assertMachineMetadataSize,
  assertMetadataKey,
  assertMetadataValue,
  assertUnitCount,
  assertUnitInput,
  controlCharacterIn,
  INPUT_LIMITS,
  utf8Length,
} from "./input-limits.js";
import type { UnitOption } from "./types.js";

const opt = (name: string, value: string, section = "Service"): UnitOption => ({ section, name, value });

function refusal(f: () => void): { kind: string; message: string } | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    if (!(err instanceof FleetError)) throw err;
    return { kind: err.kind, message: err.message };
  }
}

describe("controlCharacterIn", () => {
  it.each([
    ["plain", "", undefined],
    ["a\u0000b", "", "U+0000"],
    ["tab\there", "", "U+0009"],
    ["tab\there", "\t", undefined],
    ["del\u007f", "", "U+007F"],
    ["c1\u0085", "", "U+0085"],
    ["é ü 日本", "", undefined],
  ])("%j (allowed %j) -> %s", (text, allowed, found) => {
    expect(controlCharacterIn(text, allowed)).toBe(found);
  });
});

describe("utf8Length", () => {
  it.each(["", "abc", "é", "日本", "😀", "a\ud800b"])("%j as Buffer.byteLength counts it", (text) => {
    expect(utf8Length(text)).toBe(Buffer.byteLength(text));
  });
});

describe("assertUnitInput", () => {
  const cases: Array<{ name: string; options: UnitOption[]; kind?: string; says?: RegExp }> = [
    { name: "a plain unit", options: [opt("ExecStart", "/bin/sleep infinity")] },
    { name: "a tab and a continuation are kept", options: [opt("ExecStart", "/bin/sh -c \\\n\t'true'")] },
    { name: "NUL in a value", options: [opt("ExecStart", "/bin/sleep\u0000infinity")], kind: "invalid-argument", says: /value of ExecStart contains a NUL/ },
    { name: "ESC in a value", options: [opt("Description", "red \u001b[31m")], kind: "invalid-argument", says: /value of Description contains the control character U\+001B/ },
    { name: "a bare line break", options: [opt("ExecStart", "a\nExecStartPre=/bin/evil")], kind: "invalid-argument", says: /line break/ },
    { name: "NUL in an option name", options: [opt("Exec\u0000Start", "x")], kind: "invalid-argument", says: /option name .* U\+0000/ },
    { name: "control character in a section", options: [opt("ExecStart", "x", "Serv\u0007ice")], kind: "invalid-argument", says: /section name .* U\+0007/ },
    {
      name: "too many options",
      options: Array.from({ length: INPUT_LIMITS.unitOptions + 1 }, (_, i) => opt(`Environment`, `A${i}=1`)),
      kind: "resource-exhausted",
      says: /1001 options; the limit is 1000 options \(unitOptions\)/,
    },
    {
      name: "too large a file",
      options: [opt("Description", "x".repeat(INPUT_LIMITS.unitFileBytes))],
      kind: "resource-exhausted",
      says: /the limit is 262144 bytes \(unitFileBytes\)/,
    },
  ];
  it.each(cases)("$name", ({ options, kind, says }) => {
    const r = refusal(() => assertUnitInput("a.service", options));
    expect(r?.kind).toBe(kind);
    if (says) expect(r?.message).toMatch(says);
    if (r) expect(r.message).toMatch(/^unit a\.service: /);
  });
});

describe("metadata", () => {
  it.each([
    ["role", "web", undefined],
    ["role", "we\u0000b", "invalid-argument"],
    ["role", "a,b", "invalid-argument"],
    ["role", "x".repeat(1025), "resource-exhausted"],
  ])("value %j=%j -> %s", (key, value, kind) => {
    expect(refusal(() => assertMetadataValue(key, value))?.kind).toBe(kind);
  });

  it.each([
    ["role", undefined],
    ["", "invalid-argument"],
    ["ro le", "invalid-argument"],
    ["ro\u0000le", "invalid-argument"],
    ["k".repeat(129), "invalid-argument"],
  ])("key %j -> %s", (key, kind) => {
    expect(refusal(() => assertMetadataKey(key))?.kind).toBe(kind);
  });

  it("a machine's metadata is bounded in entries and bytes", () => {
    const entries = (n: number, size: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v".repeat(size)]));
    expect(refusal(() => assertMachineMetadataSize("m", entries(64, 10)))).toBeUndefined();
    expect(refusal(() => assertMachineMetadataSize("m", entries(65, 1)))?.message).toMatch(/65 entries; the limit is 64 entries \(machineMetadataEntries\)/);
    expect(refusal(() => assertMachineMetadataSize("m", entries(20, 1000)))?.message).toMatch(/the limit is 16384 bytes \(machineMetadataBytes\)/);
  });
});

describe("assertUnitCount", () => {
  it("takes up to unitsPerRequest", () => {
    expect(refusal(() => assertUnitCount(1000))).toBeUndefined();
    expect(refusal(() => assertUnitCount(1001))).toEqual({ kind: "resource-exhausted", message: "the request's unit count is 1001 units; the limit is 1000 units (unitsPerRequest)" });
  });
});

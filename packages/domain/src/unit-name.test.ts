import { describe, expect, it } from "vitest";
import {
  assertValidUnitName,
  InvalidUnitNameError,
  isValidUnitName,
  MAX_UNIT_NAME_LENGTH,
  parseUnitName,
  templateNameOf,
  unitNameError,
  UNIT_SUFFIXES,
  type UnitName,
} from "./unit-name.js";

describe("parseUnitName", () => {
  const cases: { name: string; want: UnitName }[] = [
    { name: "foo.service", want: { prefix: "foo", instance: undefined, suffix: "service", isTemplate: false, isInstance: false } },
    { name: "foo@.service", want: { prefix: "foo", instance: "", suffix: "service", isTemplate: true, isInstance: false } },
    { name: "foo@bar.service", want: { prefix: "foo", instance: "bar", suffix: "service", isTemplate: false, isInstance: true } },
    { name: "foo@bar@baz.service", want: { prefix: "foo", instance: "bar@baz", suffix: "service", isTemplate: false, isInstance: true } },
    { name: "foo.1@.service", want: { prefix: "foo.1", instance: "", suffix: "service", isTemplate: true, isInstance: false } },
    { name: "foo.1@2.service", want: { prefix: "foo.1", instance: "2", suffix: "service", isTemplate: false, isInstance: true } },
    { name: "ssh@.socket", want: { prefix: "ssh", instance: "", suffix: "socket", isTemplate: true, isInstance: false } },
    { name: "ssh@1.socket", want: { prefix: "ssh", instance: "1", suffix: "socket", isTemplate: false, isInstance: true } },
    { name: "a:b_c-d.mount", want: { prefix: "a:b_c-d", instance: undefined, suffix: "mount", isTemplate: false, isInstance: false } },
    { name: "x@10.0.0.1.path", want: { prefix: "x", instance: "10.0.0.1", suffix: "path", isTemplate: false, isInstance: true } },
  ];
  for (const c of cases) {
    it(`parses ${c.name}`, () => {
      expect(parseUnitName(c.name)).toEqual(c.want);
    });
  }

  it("accepts every known suffix", () => {
    for (const suffix of UNIT_SUFFIXES) expect(isValidUnitName(`foo.${suffix}`)).toBe(true);
  });

  it("accepts templates of every templatable type", () => {
    for (const suffix of ["path", "service", "socket", "target", "timer"]) {
      expect(unitNameError(`foo@.${suffix}`)).toBeUndefined();
      expect(unitNameError(`foo@1.${suffix}`)).toBeUndefined();
    }
  });

  it("accepts a name of exactly the maximum length", () => {
    const name = "a".repeat(MAX_UNIT_NAME_LENGTH - ".service".length) + ".service";
    expect(unitNameError(name)).toBeUndefined();
  });
});

describe("unitNameError", () => {
  const rejections: { label: string; name: string; message: string }[] = [
    { label: "empty", name: "", message: 'invalid unit name "": must not be empty' },
    { label: "slash", name: "a/b.service", message: 'invalid unit name "a/b.service": only [a-zA-Z0-9:_.@-] are allowed' },
    { label: "space", name: "a b.service", message: 'invalid unit name "a b.service": only [a-zA-Z0-9:_.@-] are allowed' },
    { label: "dot-dot path", name: "../x.service", message: 'invalid unit name "../x.service": only [a-zA-Z0-9:_.@-] are allowed' },
    { label: "non-ascii", name: "é.service", message: 'invalid unit name "é.service": only [a-zA-Z0-9:_.@-] are allowed' },
    { label: "newline", name: "a\n.service", message: 'invalid unit name "a\\n.service": only [a-zA-Z0-9:_.@-] are allowed' },
    {
      label: "no suffix",
      name: "foo",
      message: 'invalid unit name "foo": must end in a unit type suffix (.automount, .busname, .device, .mount, .path, .scope, .service, .slice, .snapshot, .socket, .swap, .target, .timer)',
    },
    {
      label: "unknown suffix",
      name: "foo.network",
      message: 'invalid unit name "foo.network": unknown unit type ".network", expected one of .automount, .busname, .device, .mount, .path, .scope, .service, .slice, .snapshot, .socket, .swap, .target, .timer',
    },
    { label: "trailing dot", name: "foo.", message: expect.stringContaining('unknown unit type "."') as unknown as string },
    { label: "empty prefix", name: ".service", message: 'invalid unit name ".service": the name before the suffix (and before any "@") must not be empty' },
    { label: "empty prefix of template", name: "@.service", message: 'invalid unit name "@.service": the name before the suffix (and before any "@") must not be empty' },
    { label: "empty prefix of instance", name: "@1.service", message: 'invalid unit name "@1.service": the name before the suffix (and before any "@") must not be empty' },
    {
      label: "template of a mount",
      name: "foo@.mount",
      message: 'invalid unit name "foo@.mount": templates and instances are only allowed for .path, .service, .socket, .target, .timer units',
    },
    {
      label: "instance of a device",
      name: "foo@1.device",
      message: 'invalid unit name "foo@1.device": templates and instances are only allowed for .path, .service, .socket, .target, .timer units',
    },
    {
      label: "too long",
      name: "a".repeat(MAX_UNIT_NAME_LENGTH) + ".service",
      message: expect.stringMatching(/: must be at most 256 characters long$/) as unknown as string,
    },
  ];
  for (const c of rejections) {
    it(`rejects ${c.label}`, () => {
      expect(unitNameError(c.name)).toEqual(c.message);
      expect(isValidUnitName(c.name)).toBe(false);
      expect(() => parseUnitName(c.name)).toThrow(InvalidUnitNameError);
    });
  }
});

describe("assertValidUnitName", () => {
  it("passes valid names", () => {
    expect(() => assertValidUnitName("hello.service")).not.toThrow();
  });

  it("throws an InvalidUnitNameError naming the unit and the rule", () => {
    try {
      assertValidUnitName("a/b.service");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidUnitNameError);
      expect(err).toBeInstanceOf(Error);
      const e = err as InvalidUnitNameError;
      expect(e.unitName).toBe("a/b.service");
      expect(e.message).toBe('invalid unit name "a/b.service": only [a-zA-Z0-9:_.@-] are allowed');
    }
  });
});

describe("templateNameOf", () => {
  const cases: { name: string; want: string | undefined }[] = [
    { name: "foo@1.service", want: "foo@.service" },
    { name: "foo@bar@baz.service", want: "foo@.service" },
    { name: "ssh@1.socket", want: "ssh@.socket" },
    { name: "foo@.service", want: undefined },
    { name: "foo.service", want: undefined },
    { name: "not a unit", want: undefined },
  ];
  for (const c of cases) {
    it(`${c.name} -> ${String(c.want)}`, () => {
      expect(templateNameOf(c.name)).toBe(c.want);
    });
  }
});

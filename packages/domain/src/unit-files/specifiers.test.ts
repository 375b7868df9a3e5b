import { describe, expect, it } from "vitest";
import { expandSpecifiers } from "./specifiers.js";

describe("expandSpecifiers", () => {
  it.each([
    { value: "%n", unit: "foo@bar.service", want: "foo@bar.service" },
    { value: "%N", unit: "foo@bar.service", want: "foo@bar" },
    { value: "%p", unit: "foo@bar.service", want: "foo" },
    { value: "%i", unit: "foo@bar.service", want: "bar" },
    { value: "%p.socket", unit: "foo.service", want: "foo.socket" },
    { value: "%i", unit: "foo.service", want: "" },
    { value: "%N", unit: "foo.service", want: "foo" },
    { value: "%p-sidekick@%i.service", unit: "web@3.service", want: "web-sidekick@3.service" },
    { value: "100%", unit: "foo.service", want: "100%" },
    { value: "%m %x", unit: "foo.service", want: "%m %x" },
    { value: "%n", unit: "not a unit", want: "%n" },
    // fleet's unitPrintf replaces all %n, then %N, %p, %i in turn: a "%" left before an expanded
    // name can make a new specifier.
    { value: "%%n", unit: "pi.service", want: "pii.service" },
    { value: "hostname=%i", unit: "metadata@.service", want: "hostname=" },
    { value: "hostname=%i", unit: "metadata@web-1.service", want: "hostname=web-1" },
    { value: "%i", unit: "a@b@c.service", want: "b@c" },
  ])("$value for $unit -> $want", ({ value, unit, want }) => {
    expect(expandSpecifiers(value, unit)).toBe(want);
  });
});

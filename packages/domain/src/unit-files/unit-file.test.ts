import { describe, expect, it } from "vitest";
import type { UnitOption } from "../types.js";
import { parseUnitFile, serializeUnitFile, unitFileForSystemd, unitOptionValueError, UnitFileError } from "./unit-file.js";
import { unitHash } from "./unit-hash.js";

const o = (section: string, name: string, value: string): UnitOption => ({ section, name, value });

// Golden: what fleet 1.0 stores for each file, and its hash. Recorded by running the unit
// deserializer and serializer vendored in fleet v1.0.0 (vendor/github.com/coreos/go-systemd/unit)
// on these exact bytes; `options` are in Serialize's order (grouped by section).
const FLEET_1_0: { label: string; text: string; options: UnitOption[]; hash: string }[] = [
  {
    label: "issue 9: continuation kept in the value",
    text: "[Service]\nExecStart=/bin/sh -c \"echo a; \\\n  sleep 100000\"\n",
    options: [o("Service", "ExecStart", "/bin/sh -c \"echo a; \\\n  sleep 100000\"")],
    hash: "b49eb1304c5263f0de174f91186a3440b9a9f11b",
  },
  {
    label: "several continuation lines",
    text: "[Service]\nExecStart=/bin/echo \\\n  hello \\\n  world\nRestart=always\n",
    options: [o("Service", "ExecStart", "/bin/echo \\\n  hello \\\n  world"), o("Service", "Restart", "always")],
    hash: "348dd30c82e68120bc1967632efd59e662e70cd3",
  },
  {
    label: "a value starting on the next line",
    text: "[Service]\nExecStop=\\\necho \"po\\\nng\"\n",
    options: [o("Service", "ExecStop", "\\\necho \"po\\\nng\"")],
    hash: "a26265f2a09bf71e666d3ab42a22ecdf3f66a7c9",
  },
  {
    label: "a comment line inside a continuation is part of the value",
    text: "[Service]\nExecStart=echo \\\n# a comment\nRestart=no\n",
    options: [o("Service", "ExecStart", "echo \\\n# a comment"), o("Service", "Restart", "no")],
    hash: "e37c2cbf2c9aedac094faa957ff9348cb5bbb7b5",
  },
  {
    label: "an escaped backslash at the end still continues",
    text: "[Service]\nA=foo\\\\\nB=bar\n",
    options: [o("Service", "A", "foo\\\\\nB=bar")],
    hash: "07e0a0763a0615e4ca4cbfff7037c75a6571ddde",
  },
  {
    label: "blanks after the backslash end the value",
    text: "[Service]\nA=foo \\  \nB=bar\n",
    options: [o("Service", "A", "foo \\"), o("Service", "B", "bar")],
    hash: "79fe0c3d4f7b1c272112637660b30e229a45b537",
  },
  {
    label: "continuation at the end of the file",
    text: "[Service]\nExecStart=echo \\",
    options: [o("Service", "ExecStart", "echo \\")],
    hash: "f6a79f028b6633531e7f557c5acbaeeeb633a19f",
  },
  {
    label: "continuation ended by a blank line",
    text: "[Service]\nExecStart=echo \\\n\nRestart=no\n",
    options: [o("Service", "ExecStart", "echo \\\n"), o("Service", "Restart", "no")],
    hash: "0f5df2b8791a0fd77ee4c96d9e0b44897ce99b41",
  },
  {
    label: "continuation ended by a line of blanks",
    text: "[Service]\nExecStart=echo \\\n  \t \nRestart=no\n",
    options: [o("Service", "ExecStart", "echo \\\n"), o("Service", "Restart", "no")],
    hash: "0f5df2b8791a0fd77ee4c96d9e0b44897ce99b41",
  },
  {
    label: "CRLF: a CR after the backslash ends the value",
    text: "[Service]\r\nA=foo \\\r\nB=bar\r\n",
    options: [o("Service", "A", "foo \\"), o("Service", "B", "bar")],
    hash: "79fe0c3d4f7b1c272112637660b30e229a45b537",
  },
  {
    label: "CRLF file",
    text: "[Unit]\r\nDescription=Foo\r\n\r\n[Service]\r\nExecStart=x\r\n",
    options: [o("Unit", "Description", "Foo"), o("Service", "ExecStart", "x")],
    hash: "684af9bff405e43986bc1734a75e5d98c2bc7b82",
  },
  {
    label: "a comment ending in a backslash swallows the next line",
    text: "[Service]\n# note \\\nExecStart=/bin/true\nRestart=no\n",
    options: [o("Service", "Restart", "no")],
    hash: "94421b1c0642cc2de4a8e75daa38e284fdacbf62",
  },
  {
    label: "one space after a comment's backslash is forgiven",
    text: "[Service]\n; note \\ \nA=1\nB=2\n",
    options: [o("Service", "B", "2")],
    hash: "1c7c5a51d4663f54a33dc9dc5aa910cbe7e113e2",
  },
  {
    label: "two spaces after a comment's backslash are not",
    text: "[Service]\n# note \\  \nA=1\nB=2\n",
    options: [o("Service", "A", "1"), o("Service", "B", "2")],
    hash: "97662a9b7b3b9cc7bfdaafb319432b97c23a34f0",
  },
  {
    label: "leading blanks of a continuation line are kept",
    text: "[Service]\nA=a\\\n\tb\n",
    options: [o("Service", "A", "a\\\n\tb")],
    hash: "c7a9695ba1b8f94fecc40e9b0c1a29dfd528ecf5",
  },
  {
    label: "a continued line that looks like an option",
    text: "[Service]\nA=x \\\nB=y\n",
    options: [o("Service", "A", "x \\\nB=y")],
    hash: "e173eeca5db27f91d1563d3ddb51894e81ebe300",
  },
  {
    label: "a continued line that looks like a section",
    text: "[Service]\nA=x \\\n[Unit]\nB=y\n",
    options: [o("Service", "A", "x \\\n[Unit]"), o("Service", "B", "y")],
    hash: "c22e52b2afb7215a10ad29d832a9606874568b6e",
  },
  {
    label: "a lone backslash value at the end",
    text: "[Service]\nA=\\",
    options: [o("Service", "A", "\\")],
    hash: "150ddebc909e92aff9a5db5ba5462f9eb067467d",
  },
  {
    label: "whitespace around names and values",
    text: "[Unit]\n  Description =   Foo bar  \t\n",
    options: [o("Unit", "Description", "Foo bar")],
    hash: "3a4e1805105313fc3f4788062237c4dc951b2c8e",
  },
  {
    label: "unicode blanks around names and values",
    text: "[Unit]\n\u00a0Description\u3000=\u2003Foo\u00a0\n",
    options: [o("Unit", "Description", "Foo")],
    hash: "92aaa50d0e11ec80fa1166bda92cbd79ea90af1f",
  },
  {
    label: "repeated options in order",
    text: "[Service]\nExecStartPre=a\nExecStart=b\nExecStartPre=c\n",
    options: [o("Service", "ExecStartPre", "a"), o("Service", "ExecStart", "b"), o("Service", "ExecStartPre", "c")],
    hash: "49a7588effe42f1878c099ab4e38b837d50f69e1",
  },
  {
    label: "a section that appears twice",
    text: "[Unit]\nA=1\n[Service]\nB=2\n[Unit]\nC=3\n",
    options: [o("Unit", "A", "1"), o("Unit", "C", "3"), o("Service", "B", "2")],
    hash: "1fc61d982cf96334c30d18a4224257e360f96d35",
  },
  {
    label: "comments, also indented",
    text: "[Unit]\n;ignore this\n  # and this\nDescription=Foo\n",
    options: [o("Unit", "Description", "Foo")],
    hash: "92aaa50d0e11ec80fa1166bda92cbd79ea90af1f",
  },
  {
    label: "comment characters inside a value",
    text: "[Service]\nExecStart=echo \"ping\"; # not a comment\n",
    options: [o("Service", "ExecStart", "echo \"ping\"; # not a comment")],
    hash: "bba6d704c5d9ad70eb42263614dbb77d57cc9f52",
  },
  {
    label: "a value containing =",
    text: "[X-Fleet]\nMachineMetadata=region=us-west\n",
    options: [o("X-Fleet", "MachineMetadata", "region=us-west")],
    hash: "f082fbfe050bc9b3351a427fc87c2b49c6767e26",
  },
  {
    label: "an empty value",
    text: "[Service]\nExecStart=\n",
    options: [o("Service", "ExecStart", "")],
    hash: "21e38046b7d750607bbef96cbb3fe2bf50f1d67d",
  },
  {
    label: "a backslash inside a value",
    text: "[Service]\nExecStart=/bin/sh -c 'echo a\\tb'\n",
    options: [o("Service", "ExecStart", "/bin/sh -c 'echo a\\tb'")],
    hash: "1f1cc2ccef0a715886711721b5e5fe701ca139a4",
  },
  {
    label: "no trailing newline",
    text: "[Unit]\nDescription=Foo",
    options: [o("Unit", "Description", "Foo")],
    hash: "92aaa50d0e11ec80fa1166bda92cbd79ea90af1f",
  },
  {
    label: "any name with an equals sign",
    text: "[Service]\n<<<<<<<<<<<=bar\n",
    options: [o("Service", "<<<<<<<<<<<", "bar")],
    hash: "21c5548fc1b7d282aa7b66928309dc78676c5c16",
  },
  {
    label: "section header with trailing whitespace",
    text: "[Unit]  \nA=b\n",
    options: [o("Unit", "A", "b")],
    hash: "9936816f25a659b2b12b116e85777205069365a9",
  },
  {
    label: "a byte order mark",
    text: "\ufeff[Unit]\nA=b\n",
    options: [o("Unit", "A", "b")],
    hash: "9936816f25a659b2b12b116e85777205069365a9",
  },
  {
    label: "a comment and blank lines before the first section",
    text: "# hi\n\n  ; there\n[Unit]\nA=b\n",
    options: [o("Unit", "A", "b")],
    hash: "9936816f25a659b2b12b116e85777205069365a9",
  },
  {
    label: "a continuation inside a template's X-Fleet",
    text: "[Service]\nExecStart=/bin/sleep 1\n[X-Fleet]\nMachineMetadata=hostname=%i \\\n  role=web\n",
    options: [o("Service", "ExecStart", "/bin/sleep 1"), o("X-Fleet", "MachineMetadata", "hostname=%i \\\n  role=web")],
    hash: "a3cf9e8d13e13166e04b6345d5cb40942a19604e",
  },
  {
    label: "empty file",
    text: "",
    options: [],
    hash: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
  },
  {
    label: "only comments",
    text: "# a\n; b\n\n   \n",
    options: [],
    hash: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
  },
];

describe("parseUnitFile: what fleet 1.0 stores (golden)", () => {
  for (const c of FLEET_1_0) {
    it(c.label, () => {
      const options = parseUnitFile(c.text);
      expect(options).toEqual(c.options);
      expect(unitHash(options)).toBe(c.hash);
    });
  }

  it("every value fleet stores is accepted by the registry's value rule", () => {
    for (const c of FLEET_1_0) for (const { name, value } of c.options) expect(unitOptionValueError(name, value)).toBeUndefined();
  });

  it("serializing a parsed file and parsing it again gives the same options (unless a value ends in a lone backslash)", () => {
    const endsInLoneBackslash = (v: string): boolean => /(^|[^\\])(\\\\)*\\$/.test(v);
    for (const c of FLEET_1_0) {
      if (c.options.some((opt) => endsInLoneBackslash(opt.value))) continue;
      expect(parseUnitFile(serializeUnitFile(c.options)), c.label).toEqual(c.options);
    }
  });
});

describe("parseUnitFile: refusals (fleet fails, or silently drops the text)", () => {
  const rejections: { label: string; text: string; line: number; message: RegExp }[] = [
    { label: "option before any section", text: "# hi\nThis=Ignored\n[Unit]\n", line: 2, message: /^line 2: option "This" appears before any \[Section\] header$/ },
    { label: "other text before any section", text: "hello\n[Unit]\n", line: 1, message: /^line 1: expected "\[Section\]" or a comment before any option, got "hello"$/ },
    { label: "line without =", text: "[Unit]\nnonsense upon stilts\n", line: 2, message: /^line 2: expected "Name=value"/ },
    { label: "garbage line", text: "[Unit]\n\n[Service]\n<<<<<<<<<<<<<<<<\n", line: 4, message: /^line 4: / },
    { label: "a name at the end of the file", text: "[Unit]\nA=1\nB", line: 3, message: /^line 3: expected "Name=value"/ },
    { label: "unterminated section header", text: "[Unit\nA=b]\n", line: 1, message: /missing its closing "\]"/ },
    { label: "text after section header", text: "\n[Unit] junk\n", line: 2, message: /unexpected text "junk" after section header/ },
    { label: "empty section name", text: "[]\nA=b\n", line: 1, message: /invalid section name ""/ },
    { label: "option without a name", text: "[Unit]\n=value\n", line: 2, message: /option without a name: "=value"/ },
    { label: "a continued line that is no option", text: "[Unit]\nA=1\nbroken \\\nstill broken\n", line: 3, message: /^line 3: expected "Name=value"/ },
  ];
  for (const c of rejections) {
    it(`refuses ${c.label}`, () => {
      let caught: unknown;
      try {
        parseUnitFile(c.text);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(UnitFileError);
      const e = caught as UnitFileError;
      expect(e.line).toBe(c.line);
      expect(e.message).toMatch(c.message);
    });
  }
});

describe("serializeUnitFile", () => {
  const cases: { label: string; options: UnitOption[]; want: string }[] = [
    { label: "no options", options: [], want: "" },
    { label: "one option", options: [o("Service", "ExecStart", "/bin/sleep 100")], want: "[Service]\nExecStart=/bin/sleep 100\n" },
    {
      label: "sections in first-appearance order with a blank line between",
      options: [o("Unit", "A", "1"), o("Service", "B", "2"), o("Unit", "C", "3"), o("X-Fleet", "Global", "true")],
      want: "[Unit]\nA=1\nC=3\n\n[Service]\nB=2\n\n[X-Fleet]\nGlobal=true\n",
    },
    { label: "empty value", options: [o("Service", "ExecStart", "")], want: "[Service]\nExecStart=\n" },
    {
      label: "a continuation is written as stored",
      options: [o("Service", "ExecStart", '/bin/sh -c "echo a; \\\n  sleep 100000"')],
      want: '[Service]\nExecStart=/bin/sh -c "echo a; \\\n  sleep 100000"\n',
    },
  ];
  for (const c of cases) {
    it(c.label, () => {
      expect(serializeUnitFile(c.options)).toBe(c.want);
    });
  }

  it("is stable: serializing a serialized file gives the same bytes", () => {
    const text = serializeUnitFile(parseUnitFile("  [Unit]\n Description = Foo \n[Service]\nExecStart=a \\\n b\nExecStart=\n[Unit]\nAfter=x.service\n[X-Fleet]\nConflicts=hello*.service\n"));
    expect(serializeUnitFile(parseUnitFile(text))).toBe(text);
  });
});

describe("unitFileForSystemd: the file the agent writes", () => {
  it("is the serialized unit when no value ends in a lone backslash (continuations included)", () => {
    const options = parseUnitFile('[Service]\nExecStart=/bin/sh -c "echo a; \\\n  sleep 100000"\nRestart=no\n');
    expect(unitFileForSystemd(options)).toBe(serializeUnitFile(options));
  });

  it("puts a space after a value's final lone backslash, so systemd does not join the next option onto it", () => {
    // fleet stores A="foo \\" and B="bar" for this file (the CR ends the value); written as is,
    // systemd would read "A=foo  B=bar".
    const options = parseUnitFile("[Service]\r\nA=foo \\\r\nB=bar\r\n");
    expect(options).toEqual([o("Service", "A", "foo \\"), o("Service", "B", "bar")]);
    expect(unitFileForSystemd(options)).toBe("[Service]\nA=foo \\ \nB=bar\n");
  });

  it("leaves an even run of backslashes alone (systemd reads an escaped backslash there)", () => {
    expect(unitFileForSystemd([o("Service", "A", "foo\\\\")])).toBe("[Service]\nA=foo\\\\\n");
  });
});

describe("unitOptionValueError", () => {
  it.each([
    { value: "/bin/sleep 1", want: undefined },
    { value: "a \\\n  b", want: undefined },
    { value: "a \\\n", want: undefined },
    { value: "\\\nb", want: undefined },
    { value: "a\nb", want: /line break that is not a continuation/ },
    { value: "\nb", want: /line break that is not a continuation/ },
    { value: "a \\\n\nb", want: /line break that is not a continuation/ },
    { value: "a\r\nb", want: /carriage return/ },
    { value: "a\\\r\nb", want: /carriage return/ },
    { value: "a\rb", want: /carriage return/ },
    { value: "a\u0000b", want: /NUL/ },
  ])("$value", ({ value, want }) => {
    const error = unitOptionValueError("ExecStart", value);
    if (want === undefined) expect(error).toBeUndefined();
    else expect(error).toMatch(want);
  });
});

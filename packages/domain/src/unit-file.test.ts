import { describe, expect, it } from "vitest";
import type { UnitOption } from "./types.js";
import { parseUnitFile, serializeUnitFile, UnitFileError } from "./unit-file.js";

const o = (section: string, name: string, value: string): UnitOption => ({ section, name, value });

describe("parseUnitFile", () => {
  const cases: { label: string; text: string; want: UnitOption[] }[] = [
    { label: "empty file", text: "", want: [] },
    { label: "only comments and blank lines", text: "# a\n; b\n\n   \n", want: [] },
    { label: "section without options", text: "[Unit]\n", want: [] },
    {
      label: "simple service",
      text: "[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep 100\n",
      want: [o("Unit", "Description", "Hello"), o("Service", "ExecStart", "/bin/sleep 100")],
    },
    {
      label: "whitespace around names and values is trimmed",
      text: "[Unit]\n  Description =   Foo bar  \t\n",
      want: [o("Unit", "Description", "Foo bar")],
    },
    {
      label: "repeated options are kept in order",
      text: "[Service]\nExecStartPre=a\nExecStart=b\nExecStartPre=c\n",
      want: [o("Service", "ExecStartPre", "a"), o("Service", "ExecStart", "b"), o("Service", "ExecStartPre", "c")],
    },
    {
      label: "a section that appears twice is merged into its first appearance",
      text: "[Unit]\nA=1\n[Service]\nB=2\n[Unit]\nC=3\n",
      want: [o("Unit", "A", "1"), o("Unit", "C", "3"), o("Service", "B", "2")],
    },
    {
      label: "# and ; comments, also indented",
      text: "[Unit]\n;ignore this\n  # and this\nDescription=Foo\n",
      want: [o("Unit", "Description", "Foo")],
    },
    {
      label: "comment characters inside a value are kept",
      text: '[Service]\nExecStart=echo "ping"; # not a comment\n',
      want: [o("Service", "ExecStart", 'echo "ping"; # not a comment')],
    },
    {
      label: "value containing =",
      text: "[X-Fleet]\nMachineMetadata=region=us-west\n",
      want: [o("X-Fleet", "MachineMetadata", "region=us-west")],
    },
    { label: "empty value (resets a list in systemd)", text: "[Service]\nExecStart=\n", want: [o("Service", "ExecStart", "")] },
    {
      label: "backslash continuation becomes a space",
      text: "[Service]\nExecStart=/bin/echo \\\n  hello \\\n  world\nRestart=always\n",
      want: [o("Service", "ExecStart", "/bin/echo    hello    world"), o("Service", "Restart", "always")],
    },
    {
      label: "continuation value starting on the next line",
      text: '[Service]\nExecStop=\\\necho "po\\\nng"\n',
      want: [o("Service", "ExecStop", 'echo "po ng"')],
    },
    {
      label: "comment lines inside a continuation are skipped",
      text: "[Service]\nExecStart=echo \\\n# a comment\n  ; another\nhello\n",
      want: [o("Service", "ExecStart", "echo  hello")],
    },
    {
      label: "an escaped backslash at the end does not continue the line",
      text: "[Service]\nA=foo\\\\\nB=bar\n",
      want: [o("Service", "A", "foo\\\\"), o("Service", "B", "bar")],
    },
    {
      label: "blanks after a continuing backslash are forgiven",
      text: "[Service]\nA=foo \\  \nbar\n",
      want: [o("Service", "A", "foo  bar")],
    },
    {
      label: "a backslash inside a value is kept",
      text: "[Service]\nExecStart=/bin/sh -c 'echo a\\tb'\n",
      want: [o("Service", "ExecStart", "/bin/sh -c 'echo a\\tb'")],
    },
    {
      label: "continuation at end of file",
      text: "[Service]\nExecStart=echo \\",
      want: [o("Service", "ExecStart", "echo")],
    },
    {
      label: "continuation ended by an empty line",
      text: "[Service]\nExecStart=echo \\\n\nRestart=no\n",
      want: [o("Service", "ExecStart", "echo"), o("Service", "Restart", "no")],
    },
    {
      label: "CRLF line endings",
      text: "[Unit]\r\nDescription=Foo\r\n\r\n[Service]\r\nExecStart=x\r\n",
      want: [o("Unit", "Description", "Foo"), o("Service", "ExecStart", "x")],
    },
    { label: "no trailing newline", text: "[Unit]\nDescription=Foo", want: [o("Unit", "Description", "Foo")] },
    {
      label: "any line with an equals sign is an option",
      text: "[Service]\n<<<<<<<<<<<=bar\n",
      want: [o("Service", "<<<<<<<<<<<", "bar")],
    },
    { label: "section header with trailing whitespace", text: "[Unit]  \nA=b\n", want: [o("Unit", "A", "b")] },
  ];
  for (const c of cases) {
    it(c.label, () => {
      expect(parseUnitFile(c.text)).toEqual(c.want);
    });
  }

  const rejections: { label: string; text: string; line: number; message: RegExp }[] = [
    { label: "option before any section", text: "# hi\nThis=Ignored\n[Unit]\n", line: 2, message: /^line 2: option "This" appears before any \[Section\] header$/ },
    { label: "line without =", text: "[Unit]\nnonsense upon stilts\n", line: 2, message: /^line 2: expected "Name=value"/ },
    { label: "garbage line", text: "[Unit]\n\n[Service]\n<<<<<<<<<<<<<<<<\n", line: 4, message: /^line 4: / },
    { label: "unterminated section header", text: "[Unit\nA=b\n", line: 1, message: /missing its closing "\]"/ },
    { label: "text after section header", text: "\n[Unit] junk\n", line: 2, message: /unexpected text "junk" after section header/ },
    { label: "empty section name", text: "[]\nA=b\n", line: 1, message: /invalid section name ""/ },
    { label: "option without a name", text: "[Unit]\n=value\n", line: 2, message: /option without a name/ },
    {
      label: "continued line reports its first line",
      text: "[Unit]\nA=1\nbroken \\\nstill broken\n",
      line: 3,
      message: /^line 3: expected "Name=value"/,
    },
  ];
  for (const c of rejections) {
    it(`rejects ${c.label}`, () => {
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
  ];
  for (const c of cases) {
    it(c.label, () => {
      expect(serializeUnitFile(c.options)).toBe(c.want);
    });
  }

  const files = [
    "[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep 100\n",
    "  [Unit]\n Description = Foo \n[Service]\nExecStart=a \\\n b\nExecStart=\n[Unit]\nAfter=x.service\n[X-Fleet]\nConflicts=hello*.service\n",
    "# only a comment\n",
  ];
  for (const [i, text] of files.entries()) {
    it(`round trips: parse(serialize(parse(file ${i}))) equals parse(file ${i})`, () => {
      const parsed = parseUnitFile(text);
      expect(parseUnitFile(serializeUnitFile(parsed))).toEqual(parsed);
    });
  }

  it("is stable: serializing a serialized file gives the same bytes", () => {
    const text = serializeUnitFile(parseUnitFile(files[1] ?? ""));
    expect(serializeUnitFile(parseUnitFile(text))).toBe(text);
  });
});

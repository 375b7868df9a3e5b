import { describe, expect, it } from "vitest";
import { baseName, dirName, joinPath, unitNameOfArg, withDefaultUnitType } from "./unit-args.js";

describe("unitNameOfArg", () => {
  const cases: { arg: string; want: string }[] = [
    { arg: "hello.service", want: "hello.service" },
    { arg: "hello", want: "hello.service" },
    { arg: "units/hello.service", want: "hello.service" },
    { arg: "/abs/path/foo@1.service", want: "foo@1.service" },
    { arg: "ssh.socket", want: "ssh.socket" },
    { arg: "multi-user.target", want: "multi-user.target" },
    { arg: "foo.link", want: "foo.link.service" },
    { arg: "dir/", want: "dir.service" },
  ];
  for (const c of cases) it(`${c.arg} -> ${c.want}`, () => expect(unitNameOfArg(c.arg)).toBe(c.want));
});

describe("paths", () => {
  const cases: { label: string; got: string; want: string }[] = [
    { label: "baseName of a bare name", got: baseName("a.service"), want: "a.service" },
    { label: "baseName of a path", got: baseName("x/y/a.service"), want: "a.service" },
    { label: "dirName of a bare name", got: dirName("a.service"), want: "." },
    { label: "dirName of a path", got: dirName("x/y/a.service"), want: "x/y" },
    { label: "dirName at the root", got: dirName("/a.service"), want: "/" },
    { label: "joinPath in the current directory", got: joinPath(".", "t@.service"), want: "t@.service" },
    { label: "joinPath in a directory", got: joinPath("x/y", "t@.service"), want: "x/y/t@.service" },
    { label: "joinPath at the root", got: joinPath("/", "t@.service"), want: "/t@.service" },
    { label: "default unit type on a path", got: withDefaultUnitType("x/hello"), want: "x/hello.service" },
  ];
  for (const c of cases) it(c.label, () => expect(c.got).toBe(c.want));
});

import { describe, expect, it } from "vitest";
import { ArgvError, parseArgv, type FlagSpec, type ParsedArgs } from "./argv.js";

const globals: FlagSpec[] = [
  { name: "endpoint", kind: "string", default: "127.0.0.1:49500", usage: "" },
  { name: "request-timeout", kind: "float", default: 3, usage: "" },
  { name: "debug", kind: "bool", default: false, usage: "" },
  { name: "help", kind: "bool", default: false, usage: "", short: "h" },
];
const commands: Record<string, FlagSpec[]> = {
  start: [
    { name: "block-attempts", kind: "int", default: 0, usage: "" },
    { name: "no-block", kind: "bool", default: false, usage: "" },
  ],
  "list-units": [
    { name: "full", kind: "bool", default: false, usage: "", short: "l" },
    { name: "no-legend", kind: "bool", default: false, usage: "" },
    { name: "fields", kind: "string", default: "unit,machine,active,sub", usage: "" },
  ],
};
const parse = (argv: string[], env: Record<string, string> = {}): ParsedArgs => parseArgv(argv, globals, (c) => commands[c], env);
const summary = (p: ParsedArgs) => ({
  global: Object.fromEntries(p.global),
  command: p.command,
  flags: Object.fromEntries(p.flags),
  args: p.args,
});

describe("parseArgv", () => {
  const cases: { label: string; argv: string[]; env?: Record<string, string>; want: ReturnType<typeof summary> }[] = [
    {
      label: "no arguments",
      argv: [],
      want: { global: { endpoint: "127.0.0.1:49500", "request-timeout": 3, debug: false, help: false }, command: undefined, flags: {}, args: [] },
    },
    {
      label: "command with defaults",
      argv: ["start", "hello.service"],
      want: {
        global: { endpoint: "127.0.0.1:49500", "request-timeout": 3, debug: false, help: false },
        command: "start",
        flags: { "block-attempts": 0, "no-block": false },
        args: ["hello.service"],
      },
    },
    {
      label: "global flags before the command, with = and with a separate value",
      argv: ["--endpoint=10.0.0.1:1", "--request-timeout", "1.5", "start", "a.service"],
      want: {
        global: { endpoint: "10.0.0.1:1", "request-timeout": 1.5, debug: false, help: false },
        command: "start",
        flags: { "block-attempts": 0, "no-block": false },
        args: ["a.service"],
      },
    },
    {
      label: "command flags interspersed with arguments, single-dash long names",
      argv: ["start", "a.service", "--block-attempts", "3", "b.service", "-no-block"],
      want: {
        global: { endpoint: "127.0.0.1:49500", "request-timeout": 3, debug: false, help: false },
        command: "start",
        flags: { "block-attempts": 3, "no-block": true },
        args: ["a.service", "b.service"],
      },
    },
    {
      label: "global flags after the command",
      argv: ["list-units", "--endpoint", "h:1", "-l", "--no-legend=true", "--fields=unit,hash"],
      want: {
        global: { endpoint: "h:1", "request-timeout": 3, debug: false, help: false },
        command: "list-units",
        flags: { full: true, "no-legend": true, fields: "unit,hash" },
        args: [],
      },
    },
    {
      label: "bool flag set to false explicitly",
      argv: ["start", "--no-block=false", "x"],
      want: {
        global: { endpoint: "127.0.0.1:49500", "request-timeout": 3, debug: false, help: false },
        command: "start",
        flags: { "block-attempts": 0, "no-block": false },
        args: ["x"],
      },
    },
    {
      label: "-- ends flags",
      argv: ["start", "--", "--no-block", "-x"],
      want: {
        global: { endpoint: "127.0.0.1:49500", "request-timeout": 3, debug: false, help: false },
        command: "start",
        flags: { "block-attempts": 0, "no-block": false },
        args: ["--no-block", "-x"],
      },
    },
    {
      label: "FLEETCTL_ environment for global flags",
      argv: ["list-units"],
      env: { FLEETCTL_ENDPOINT: "env:2", FLEETCTL_REQUEST_TIMEOUT: "7" },
      want: {
        global: { endpoint: "env:2", "request-timeout": 7, debug: false, help: false },
        command: "list-units",
        flags: { full: false, "no-legend": false, fields: "unit,machine,active,sub" },
        args: [],
      },
    },
    {
      label: "the command line wins over the environment",
      argv: ["--endpoint=cli:1", "list-units"],
      env: { FLEETCTL_ENDPOINT: "env:2" },
      want: {
        global: { endpoint: "cli:1", "request-timeout": 3, debug: false, help: false },
        command: "list-units",
        flags: { full: false, "no-legend": false, fields: "unit,machine,active,sub" },
        args: [],
      },
    },
    {
      label: "shorthand global flag",
      argv: ["-h"],
      want: { global: { endpoint: "127.0.0.1:49500", "request-timeout": 3, debug: false, help: true }, command: undefined, flags: {}, args: [] },
    },
    {
      label: "unknown command gets no flags; its arguments pass through",
      argv: ["frobnicate", "x"],
      want: { global: { endpoint: "127.0.0.1:49500", "request-timeout": 3, debug: false, help: false }, command: "frobnicate", flags: {}, args: ["x"] },
    },
  ];
  for (const c of cases) {
    it(c.label, () => {
      expect(summary(parse(c.argv, c.env))).toEqual(c.want);
    });
  }

  it("records which global flags were set on the command line", () => {
    expect([...parse(["--debug", "start", "--endpoint=x"]).globalSet].sort()).toEqual(["debug", "endpoint"]);
  });

  const errors: { label: string; argv: string[]; env?: Record<string, string>; message: string }[] = [
    { label: "unknown global flag", argv: ["--nope", "start"], message: "unknown flag: --nope" },
    { label: "unknown command flag", argv: ["start", "--nope=1"], message: "unknown flag: --nope" },
    { label: "unknown single-dash flag", argv: ["start", "-x"], message: "unknown shorthand flag: 'x' in -x" },
    { label: "unknown single-dash word", argv: ["start", "-xyz=1"], message: "unknown shorthand flag: 'x' in -xyz=1" },
    { label: "missing value", argv: ["start", "--block-attempts"], message: "flag needs an argument: --block-attempts" },
    {
      label: "bad integer",
      argv: ["start", "--block-attempts=many"],
      message: 'invalid argument "many" for --block-attempts=many: strconv.ParseInt: parsing "many": invalid syntax',
    },
    { label: "bad integer, value apart", argv: ["start", "--block-attempts", "x"], message: 'invalid argument "x" for --block-attempts: strconv.ParseInt: parsing "x": invalid syntax' },
    {
      label: "bad float",
      argv: ["--request-timeout=soon", "start"],
      message: 'invalid argument "soon" for --request-timeout=soon: strconv.ParseFloat: parsing "soon": invalid syntax',
    },
    { label: "bad bool", argv: ["start", "--no-block=maybe"], message: 'invalid argument "maybe" for --no-block=maybe: strconv.ParseBool: parsing "maybe": invalid syntax' },
    {
      label: "bad environment value",
      argv: ["start"],
      env: { FLEETCTL_REQUEST_TIMEOUT: "x" },
      message: 'invalid argument "x" for FLEETCTL_REQUEST_TIMEOUT: strconv.ParseFloat: parsing "x": invalid syntax',
    },
  ];
  for (const c of errors) {
    it(`rejects ${c.label}`, () => {
      expect(() => parse(c.argv, c.env)).toThrow(new ArgvError(c.message));
    });
  }
});

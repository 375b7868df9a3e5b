#!/usr/bin/env node
// fleet-dev: a local sandbox cluster (see README.md).
import { parseArgs, USAGE, UsageError } from "./args.js";
import * as commands from "./commands.js";

async function run(argv: string[]): Promise<number> {
  const c = parseArgs(argv, process.env);
  switch (c.cmd) {
    case "help":
      process.stdout.write(USAGE);
      return 0;
    case "up":
      return commands.up(c);
    case "down":
      return commands.down(c);
    case "status":
      return commands.status(c);
    case "env":
      return commands.env(c);
    case "exec":
      return commands.exec(c);
    case "kill":
      return commands.kill(c);
    case "restart":
      return commands.restart(c);
    case "add":
      return commands.add(c);
    case "replace":
      return commands.replace(c);
    case "partition":
      return commands.partition(c);
    case "heal":
      return commands.heal(c);
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: detached children are unref'd, but don't let any stray handle keep
    // `up` from returning. Flush stdout first.
    process.stdout.write("", () => process.exit(code));
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`fleet-dev: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`fleet-dev: error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

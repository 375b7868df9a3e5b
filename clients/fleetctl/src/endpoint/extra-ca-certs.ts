// NODE_EXTRA_CA_CERTS without paying for it on every run. bin/fleetctl starts Node without the
// variable (Node 20 parses every certificate in it while it starts, ~50 ms with a distribution's
// CA bundle) and passes it on as FLEETCTL_EXTRA_CA_CERTS; a command that opens a TLS connection
// runs again in a Node that has them. main.ts imports this module only then.
import { spawnSync } from "node:child_process";

/** Runs this command again with NODE_EXTRA_CA_CERTS and exits with its status; returns when there is nothing to restore. */
export function restartWithExtraCaCerts(): void {
  const extra = process.env.FLEETCTL_EXTRA_CA_CERTS;
  if (!extra || process.env.NODE_EXTRA_CA_CERTS) return;
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: extra };
  delete env.FLEETCTL_EXTRA_CA_CERTS;
  const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit", env });
  process.exit(run.status ?? 1);
}

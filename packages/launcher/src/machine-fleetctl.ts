// fleetctl on a sandbox machine, installed as on a host: its launcher and its one-file bundle
// (scripts/bundle-fleetctl.mjs) copied into the machine's own FLEETCTL_INSTALL_DIR, so that any
// user of the machine can run it (the bound repository may be in a directory only root enters).
import { chmodSync, copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { FLEETCTL_INSTALL_DIR } from "./machine-spec.js";

export function installFleetctl(root: string, repo: string): void {
  for (const file of ["bin/fleetctl", "bin/fleetctl.cjs", "dist/fleetctl.cjs"]) {
    const from = join(repo, "clients/fleetctl", file);
    if (!existsSync(from)) continue;
    const to = join(root, FLEETCTL_INSTALL_DIR, file);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    chmodSync(to, 0o755);
  }
}

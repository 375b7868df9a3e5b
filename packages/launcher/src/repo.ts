import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

/** The monorepo root (this file is packages/launcher/{src,dist}/repo.*). */
export function repoRoot(): string {
  return resolve(fileURLToPath(new URL("../../..", import.meta.url)));
}

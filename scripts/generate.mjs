// Regenerates the TypeScript wire code from proto/ (ts-proto through buf). Generated code is
// never committed: it is rebuilt by every build.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
rmSync(`${root}/packages/wire/src/gen`, { recursive: true, force: true });
execFileSync("npx", ["--no-install", "buf", "generate"], { cwd: root, stdio: "inherit" });

// The agent's unit files on disk: <units_dir>/<name>, linked into systemd's runtime unit path.
// Names are validated again here, right before they become file names.
import { mkdir, readdir, readFile, readlink, rm, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { unitNameError } from "@fleet/domain";

export const RUNTIME_UNIT_DIR = "/run/systemd/system";

export class UnitFiles {
  constructor(
    readonly dir: string,
    /** systemd's runtime unit path: links to our files, and the at-most-once fence's units. */
    readonly runtimeDir = RUNTIME_UNIT_DIR,
  ) {}

  pathOf(name: string): string {
    const error = unitNameError(name);
    if (error) throw new Error(error);
    return join(this.dir, name);
  }

  /** Every unit file the agent wrote, by name. */
  async readAll(): Promise<Map<string, string>> {
    await mkdir(this.dir, { recursive: true });
    const out = new Map<string, string>();
    for (const name of await readdir(this.dir)) {
      if (unitNameError(name)) continue;
      out.set(name, await readFile(join(this.dir, name), "utf8"));
    }
    return out;
  }

  /** Writes atomically (temp file + rename) so systemd never reads half a file. */
  async write(name: string, contents: string): Promise<void> {
    const path = this.pathOf(name);
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.${name}.tmp`);
    await writeFile(tmp, contents, { mode: 0o644 });
    await rename(tmp, path);
  }

  async remove(name: string): Promise<void> {
    await rm(this.pathOf(name), { force: true });
  }

  /** Removes systemd's runtime link to our file, and only a link that points at our file. */
  async unlink(name: string): Promise<void> {
    const ours = this.pathOf(name);
    const link = join(this.runtimeDir, name);
    try {
      if ((await readlink(link)) === ours) await rm(link, { force: true });
    } catch {
      // no link: the goal is reached
    }
  }
}

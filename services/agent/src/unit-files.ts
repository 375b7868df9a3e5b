// The agent's unit files on disk: <units_dir>/<name>, linked into systemd's runtime unit path.
// Names are validated again here, right before they become file names.
import { mkdir, readdir, readFile, readlink, rm, stat, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { unitNameError } from "@fleet/domain";

export const RUNTIME_UNIT_DIR = "/run/systemd/system";

/** What tells a file's contents apart without reading them: the agent replaces a file by a rename
 * (a new inode), and an edit in place changes its size or its modification time (one made within
 * the file system's timestamp granularity, a few ms, of the last, at the same size, is seen at the
 * next change). */
function identity(s: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

export class UnitFiles {
  /** The contents last read of each file, by the identity it had then: a pass reads only files that changed. */
  private readonly known = new Map<string, { identity: string; contents: string }>();

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

  /** Every unit file the agent wrote, by name (none while the directory does not exist). */
  async readAll(): Promise<Map<string, string>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (!isMissing(err)) throw err;
      names = [];
    }
    // All at once: one wait for the thread pool, not one per file (a busy loop makes each wait long).
    const units = names.filter((name) => !unitNameError(name));
    const contents = await Promise.all(units.map((name) => this.read(name)));
    const out = new Map<string, string>();
    units.forEach((name, i) => {
      const c = contents[i];
      if (c !== undefined) out.set(name, c);
    });
    for (const name of this.known.keys()) if (!out.has(name)) this.known.delete(name);
    return out;
  }

  /** The file's contents; read again only when its identity changed since the last read. */
  private async read(name: string): Promise<string | undefined> {
    const path = join(this.dir, name);
    try {
      const id = identity(await stat(path));
      const known = this.known.get(name);
      if (known?.identity === id) return known.contents;
      // A file replaced after the stat is read afresh next time: its identity differs then.
      const contents = await readFile(path, "utf8");
      this.known.set(name, { identity: id, contents });
      return contents;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /** Writes atomically (temp file + rename) so systemd never reads half a file. */
  async write(name: string, contents: string): Promise<void> {
    const path = this.pathOf(name);
    const tmp = join(this.dir, `.${name}.tmp`);
    try {
      await writeFile(tmp, contents, { mode: 0o644 });
    } catch (err) {
      if (!isMissing(err)) throw err;
      await mkdir(this.dir, { recursive: true });
      await writeFile(tmp, contents, { mode: 0o644 });
    }
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

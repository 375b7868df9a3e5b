import { mkdtempSync, rmSync, writeFileSync, unlinkSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UnitFiles } from "./unit-files.js";

const dirs: string[] = [];
function files(): UnitFiles {
  const root = mkdtempSync(join(tmpdir(), "unit-files-"));
  dirs.push(root);
  return new UnitFiles(join(root, "units"), join(root, "runtime"));
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("UnitFiles", () => {
  it("reads nothing before the first write, which creates the directory", async () => {
    const f = files();
    expect(await f.readAll()).toEqual(new Map());
    expect(existsSync(f.dir)).toBe(false);
    await f.write("a.service", "[Service]\nExecStart=/bin/true\n");
    expect(await f.readAll()).toEqual(new Map([["a.service", "[Service]\nExecStart=/bin/true\n"]]));
  });

  it("sees every change made on disk, by the agent or anyone else, between two reads", async () => {
    const f = files();
    await f.write("a.service", "one");
    await f.write("b.service", "two");
    expect(await f.readAll()).toEqual(new Map([["a.service", "one"], ["b.service", "two"]]));
    await f.write("a.service", "three");
    writeFileSync(join(f.dir, "b.service"), "edited in place, longer");
    expect(await f.readAll()).toEqual(new Map([["a.service", "three"], ["b.service", "edited in place, longer"]]));
    // The same size: told apart by the modification time (file systems keep it to a few ms).
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(join(f.dir, "b.service"), "EDITED IN PLACE, LONGER");
    unlinkSync(join(f.dir, "a.service"));
    expect(await f.readAll()).toEqual(new Map([["b.service", "EDITED IN PLACE, LONGER"]]));
    await f.remove("b.service");
    expect(await f.readAll()).toEqual(new Map());
  });

  it("leaves out files whose names are not unit names, and refuses to write one", async () => {
    const f = files();
    await f.write("a.service", "x");
    writeFileSync(join(f.dir, ".a.service.tmp"), "half");
    writeFileSync(join(f.dir, "notes.txt"), "y");
    expect([...(await f.readAll()).keys()]).toEqual(["a.service"]);
    await expect(f.write("../escape.service", "z")).rejects.toThrow();
  });
});

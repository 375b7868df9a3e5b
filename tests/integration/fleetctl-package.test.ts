// fleetctl as a user installs it on a workstation: `npm pack` of clients/fleetctl, installed
// globally into a prefix of its own, run from outside the repository with nothing but Node on
// PATH, against a real api.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/launcher";
import { startApiStack, type ApiStack } from "./api-fixture.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "fleetctl-package-"));
const prefix = join(dir, "prefix");
let stack: ApiStack;

/** The installed fleetctl, run in `dir` with a bare environment. */
const fleetctl = (...args: string[]) =>
  execFileSync(join(prefix, "bin", "fleetctl"), args, { cwd: dir, env: { PATH: `${join(prefix, "bin")}:${process.env.PATH ?? ""}`, HOME: dir }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

beforeAll(async () => {
  const tarball = execFileSync("npm", ["pack", "--pack-destination", dir, "--silent"], { cwd: join(repo, "clients/fleetctl"), encoding: "utf8" }).trim().split("\n").pop() ?? "";
  execFileSync("npm", ["install", "--global", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, join(dir, tarball)], { cwd: dir, stdio: "ignore" });
  stack = await startApiStack(join(dir, "stack"));
  await waitFor("the api to answer", () => (fleetctl("--endpoint", stack.grpcAddress, "list-machines"), true), { timeoutMs: 30_000, intervalMs: 250 });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("fleetctl installed from its package", () => {
  it("holds only the launcher and the bundle, and runs outside the repository", () => {
    const listed = execFileSync("tar", ["-tzf", join(dir, execFileSync("ls", [dir], { encoding: "utf8" }).split("\n").find((f) => f.endsWith(".tgz")) ?? "")], { encoding: "utf8" });
    expect(listed.split("\n").filter(Boolean).sort()).toEqual(["package/README.md", "package/bin/fleetctl", "package/bin/fleetctl.cjs", "package/dist/fleetctl.cjs", "package/package.json"]);
    expect(fleetctl("version")).toBe("fleetctl version 0.1.0\n");
    expect(fleetctl("completion", "bash")).toContain("complete -F _fleetctl fleetctl");
  });

  it("talks to an api over gRPC and HTTP API v1", () => {
    expect(JSON.parse(fleetctl("--endpoint", stack.grpcAddress, "list-machines", "-o", "json"))).toEqual({ machines: [] });
    expect(fleetctl("--endpoint", `http://${stack.httpAddress}`, "list-unit-files")).toBe("UNIT\tHASH\tDSTATE\tSTATE\tTARGET\n");
  });
});

// docs/api.md's grpc-js / proto-loader client is examples/grpc-client/list-units.mjs, word for
// word, and it works: run as a separate Node program against a real api with units in it.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/launcher";
import { connect, FleetServiceClient, TargetState, unary } from "@fleet/wire";
import { startApiStack, type ApiStack } from "../api-fixture.js";

const repo = fileURLToPath(new URL("../../..", import.meta.url));
const example = join(repo, "examples/grpc-client/list-units.mjs");
const dir = mkdtempSync(join(tmpdir(), "fleet-grpc-example-"));
let stack: ApiStack;
const run = (env: Record<string, string>) => promisify(execFile)(process.execPath, [example], { env: { ...process.env, ...env }, cwd: dir });

beforeAll(async () => {
  stack = await startApiStack(dir);
  const api = connect(FleetServiceClient, stack.grpcAddress);
  const options = [{ section: "Service", name: "ExecStart", value: "/bin/true" }];
  await waitFor("the api to take a unit", () => unary(api.createUnit.bind(api), { unit: { name: "web.service", options, hash: "", desiredState: TargetState.TARGET_STATE_LAUNCHED } }).then(() => true), { timeoutMs: 30_000, intervalMs: 250 });
  await unary(api.createUnit.bind(api), { unit: { name: "idle.service", options, hash: "", desiredState: TargetState.TARGET_STATE_INACTIVE } });
  api.close();
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the documented grpc-js client", () => {
  it("is in docs/api.md as in examples/", () => {
    const docs = readFileSync(join(repo, "docs/api.md"), "utf8");
    const block = /## A client of your own[\s\S]*?```js\n([\s\S]*?)```/.exec(docs)?.[1] ?? "";
    expect(block.length).toBeGreaterThan(500);
    expect(readFileSync(example, "utf8")).toContain(block);
  });

  it("lists the api's units with enum names, from outside the repository's code", async () => {
    const { stdout } = await run({ FLEET_API: stack.grpcAddress });
    expect(stdout).toBe("idle.service\tTARGET_STATE_INACTIVE\tTARGET_STATE_INACTIVE\t-\nweb.service\tTARGET_STATE_LAUNCHED\tTARGET_STATE_INACTIVE\t-\n2 unit(s)\n");
  });

  it("says why when the api is not there", async () => {
    await expect(run({ FLEET_API: "127.0.0.1:1" })).rejects.toMatchObject({ stderr: expect.stringContaining("ListUnits failed") });
  });
});

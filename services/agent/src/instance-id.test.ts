import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "@fleet/wire";
import { AgentStateFile } from "./agent-state.js";
import { INSTANCE_FILE, isInstanceId, loadInstanceId } from "./instance-id.js";

const log = createLogger("t", "silent");
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "fleet-instance-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("loadInstanceId", () => {
  it("is the same for every agent of one boot (the file in /run) and new for another machine", () => {
    const dir = join(tmp(), "run", "fleet");
    const first = loadInstanceId(dir, log);
    expect(isInstanceId(first)).toBe(true);
    expect(loadInstanceId(dir, log)).toBe(first);
    expect(loadInstanceId(join(tmp(), "other"), log)).not.toBe(first);
  });

  it("replaces a malformed file", () => {
    const dir = tmp();
    writeFileSync(join(dir, INSTANCE_FILE), "garbage\n");
    const id = loadInstanceId(dir, log);
    expect(isInstanceId(id)).toBe(true);
    expect(readFileSync(join(dir, INSTANCE_FILE), "utf8")).toBe(`${id}\n`);
  });
});

describe("AgentStateFile", () => {
  it("says the agent's state and why, as JSON", () => {
    const dir = tmp();
    const state = new AgentStateFile(dir, { machineId: "m", publicIp: "10.0.0.2" }, log, () => new Date(0));
    state.set("refused", "machine id m is already registered by another machine (10.0.0.1)");
    expect(JSON.parse(readFileSync(state.path, "utf8"))).toEqual({
      state: "refused",
      since: "1970-01-01T00:00:00.000Z",
      machineId: "m",
      publicIp: "10.0.0.2",
      pid: process.pid,
      reason: "machine id m is already registered by another machine (10.0.0.1)",
    });
    state.set("registered");
    expect(JSON.parse(readFileSync(state.path, "utf8"))).not.toHaveProperty("reason");
    expect(state.state).toBe("registered");
  });
});

import { describe, expect, it } from "vitest";
import { checkClusterOptions } from "./cluster-options.js";

// Checks that fail before anything is started (the build check comes after them).
describe("startCluster's options", () => {
  it.each([
    [{ gateways: 0 }, /gateways must be an integer 1\.\.9, got 0/],
    [{ etcdMembers: 10 }, /etcdMembers must be an integer 1\.\.9, got 10/],
    [{ hintSpreadRate: -1 }, /hintSpreadRate must be an integer of at least 0 \(0: no spread\), got -1/],
    [{ hintSpreadRate: 2.5 }, /hintSpreadRate must be an integer of at least 0/],
  ])("refuses %j", (extra, message) => {
    expect(() => checkClusterOptions({ machines: [], stateDir: "/var/tmp/fleet-dev/options-test", repoRoot: "/nonexistent", ...extra })).toThrow(message);
  });

  it("takes a rate of 0 (no spread) and goes on to its next check", () => {
    expect(() => checkClusterOptions({ machines: [], stateDir: "/var/tmp/fleet-dev/options-test", repoRoot: "/nonexistent", hintSpreadRate: 0 })).toThrow(/is missing: build first/);
  });
});

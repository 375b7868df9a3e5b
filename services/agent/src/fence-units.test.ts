import { describe, expect, it } from "vitest";
import { FENCE_SERVICE, FENCE_TARGET, FENCE_TIMER, fenceUnitFiles } from "./fence-units.js";

describe("fenceUnitFiles", () => {
  it("re-arming every agent_ttl/3 never hits systemd's start limit (5 starts in 10 s by default)", () => {
    const files = fenceUnitFiles(3000);
    expect([...files.keys()].sort()).toEqual([FENCE_TARGET, FENCE_SERVICE, FENCE_TIMER].sort());
    for (const [name, text] of files) expect({ name, limited: !text.includes("\nStartLimitIntervalSec=0\n") }).toEqual({ name, limited: false });
  });

  it("the timer fires D after each (re)start, to the millisecond asked", () => {
    expect(fenceUnitFiles(3000.7).get(FENCE_TIMER)).toContain("\nOnActiveSec=3000ms\n");
  });
});

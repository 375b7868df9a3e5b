import { describe, expect, it } from "vitest";
import { HintFilter, passCoveringHints } from "./hint-filter.js";

describe("HintFilter", () => {
  const cases: Array<{ name: string; covered: number[]; failed?: boolean; revision: number; wanted: boolean }> = [
    { name: "no pass yet", covered: [], revision: 5, wanted: true },
    { name: "the same change from a second gateway, after a pass started from it", covered: [5], revision: 5, wanted: false },
    { name: "an older change", covered: [5], revision: 3, wanted: false },
    { name: "a newer change", covered: [5], revision: 6, wanted: true },
    { name: "the pass that covered it failed", covered: [5], failed: true, revision: 5, wanted: true },
    { name: "a hint without a revision", covered: [5], revision: 0, wanted: true },
  ];
  it.each(cases)("$name → $wanted", ({ covered, failed, revision, wanted }) => {
    const f = new HintFilter();
    for (const r of covered) f.passStarting(r);
    if (failed) f.passFailed();
    expect(f.wanted(revision)).toBe(wanted);
  });

  it("a pass covers the revision the agent had heard of when it started; a failed one nothing", async () => {
    const f = new HintFilter();
    let heard = 7;
    const pass = passCoveringHints(f, () => heard, async (trigger) => {
      if (trigger === "fail") throw new Error("gateway unavailable");
    });
    await pass("hint");
    expect(f.wanted(7)).toBe(false);
    heard = 9;
    await expect(pass("fail")).rejects.toThrow("gateway unavailable");
    expect(f.wanted(7)).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { insertByName, lowerBound, mergeByName, removeByName, upperBound } from "./sorted.js";

const named = (...names: string[]): Array<{ name: string }> => names.map((name) => ({ name }));
const names = (xs: ReadonlyArray<{ name: string }>): string[] => xs.map((x) => x.name);

describe("sorted arrays by name", () => {
  it.each([
    { name: "before all", key: "a", lower: 0, upper: 0 },
    { name: "an existing name", key: "c", lower: 1, upper: 3 },
    { name: "between names", key: "d", lower: 3, upper: 3 },
    { name: "after all", key: "z", lower: 4, upper: 4 },
    { name: "a prefix", key: "c", lower: 1, upper: 3 },
  ])("bounds of $name", ({ key, lower, upper }) => {
    const sorted = named("b", "c", "c", "e");
    expect(lowerBound(sorted, key)).toBe(lower);
    expect(upperBound(sorted, key)).toBe(upper);
  });

  it("inserts after equal names, removes the very item, merges small and large batches", () => {
    const sorted = named("b", "d");
    const second = { name: "b" };
    insertByName(sorted, second);
    expect(sorted[1]).toBe(second);
    removeByName(sorted, { name: "d" });
    expect(names(sorted)).toEqual(["b", "b", "d"]);
    removeByName(sorted, second);
    expect(names(sorted)).toEqual(["b", "d"]);
    insertByName(sorted, second);
    mergeByName(sorted, named("c", "a"));
    expect(names(sorted)).toEqual(["a", "b", "b", "c", "d"]);
    const many = Array.from({ length: 100 }, (_, i) => ({ name: `n${String(99 - i).padStart(3, "0")}` }));
    mergeByName(sorted, many);
    expect(names(sorted)).toEqual([...names(sorted)].sort());
    expect(sorted).toHaveLength(105);
  });
});

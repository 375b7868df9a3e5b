import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { countedAndTimed, Counter, Histogram, splitMethodPath } from "./metrics.js";

describe("countedAndTimed", () => {
  it("counts each call by outcome and times it, failures included (and passes them on)", async () => {
    const registry = new Registry();
    const calls = new Counter({ name: "t_calls_total", help: "h", labelNames: ["op", "outcome"] as const, registers: [registry] });
    const seconds = new Histogram({ name: "t_seconds", help: "h", labelNames: ["op"] as const, registers: [registry] });
    expect(await countedAndTimed(calls, seconds, "op", "get", async () => 7)).toBe(7);
    await expect(countedAndTimed(calls, seconds, "op", "get", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    const text = await registry.metrics();
    expect(text).toMatch(/^t_calls_total\{op="get",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^t_calls_total\{op="get",outcome="error"\} 1$/m);
    expect(text).toMatch(/^t_seconds_count\{op="get"\} 2$/m);
  });
});

describe("splitMethodPath", () => {
  it.each([
    ["/fleet.v1.FleetService/ListUnits", { service: "fleet.v1.FleetService", method: "ListUnits" }],
    ["odd", { service: "", method: "odd" }],
  ])("%s", (path, want) => expect(splitMethodPath(path)).toEqual(want));
});

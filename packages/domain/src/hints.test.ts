import { describe, expect, it } from "vitest";
import { decodeHint, encodeHint, hintDelayMs, hintSpreadMs, MAX_HINT_SPREAD_MS } from "./hints.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("hints on the wire", () => {
  it("round-trips a hint with and without its request id", () => {
    for (const hint of [{ revision: 7, what: "unit a.service" }, { revision: 8, what: "machine 1", requestId: "0b6c-req" }, { revision: 9, what: "unit g.service", spreadMs: 1500 }]) {
      expect(decodeHint(encodeHint(hint))).toEqual(hint);
    }
  });

  it.each([
    ["not JSON", "revision 7", undefined],
    ["no revision", '{"what":"x"}', undefined],
    ["a revision that is not a number", '{"revision":"7"}', undefined],
    ["no what", '{"revision":7}', { revision: 7, what: "" }],
    ["a request id with a newline (dropped, not logged)", '{"revision":7,"what":"x","requestId":"a\\nb"}', { revision: 7, what: "x" }],
    ["a request id that is not a string", '{"revision":7,"what":"x","requestId":5}', { revision: 7, what: "x" }],
    ["a spread that is not a number (ignored: no wait)", '{"revision":7,"what":"x","spreadMs":"9"}', { revision: 7, what: "x" }],
    ["a negative spread", '{"revision":7,"what":"x","spreadMs":-5}', { revision: 7, what: "x" }],
    ["a spread past the longest: cut to it (an hour would leave machines behind)", '{"revision":7,"what":"x","spreadMs":3600000}', { revision: 7, what: "x", spreadMs: 60_000 }],
    ["a spread in fractions of a millisecond: rounded", '{"revision":7,"what":"x","spreadMs":250.4}', { revision: 7, what: "x", spreadMs: 250 }],
    ["a spread of 0", '{"revision":7,"what":"x","spreadMs":0}', { revision: 7, what: "x" }],
  ])("%s", (_name, text, want) => {
    expect(decodeHint(bytes(text))).toEqual(want);
  });
});

describe("spreading the agents' passes after a hint all of them hear", () => {
  it.each([
    ["a small cluster: at once", 50, 1000, 0],
    ["just under a tenth of a second: at once", 99, 1000, 0],
    ["1,000 machines at 1,000 a second: over a second", 1000, 1000, 1000],
    ["10,000 machines at 1,000 a second: over ten", 10_000, 1000, 10_000],
    ["a higher rate, a shorter spread", 10_000, 5000, 2000],
    ["never longer than the longest", 1_000_000, 1000, MAX_HINT_SPREAD_MS],
    ["rate 0: spreading turned off", 10_000, 0, 0],
  ])("%s", (_name, machines, rate, want) => {
    expect(hintSpreadMs(machines, rate)).toBe(want);
  });

  it("waits a random part of the spread, and not at all without one", () => {
    const hint = { revision: 1, what: "unit g.service", spreadMs: 1000 };
    expect(hintDelayMs(hint, () => 0)).toBe(0);
    expect(hintDelayMs(hint, () => 0.25)).toBe(250);
    expect(hintDelayMs(hint, () => 0.9999)).toBe(999);
    expect(hintDelayMs({ revision: 1, what: "unit a.service" }, () => 0.5)).toBe(0);
  });
});

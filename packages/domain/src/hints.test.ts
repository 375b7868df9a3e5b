import { describe, expect, it } from "vitest";
import { decodeHint, encodeHint } from "./hints.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("hints on the wire", () => {
  it("round-trips a hint with and without its request id", () => {
    for (const hint of [{ revision: 7, what: "unit a.service" }, { revision: 8, what: "machine 1", requestId: "0b6c-req" }]) {
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
  ])("%s", (_name, text, want) => {
    expect(decodeHint(bytes(text))).toEqual(want);
  });
});

import { describe, expect, it } from "vitest";
import { cutPage, pageOf, decodePageToken, encodePageToken, pageTokenOf, PageTokenError } from "./page-token.js";

describe("page tokens", () => {
  it("encode as fleet does", () => {
    expect(encodePageToken({ limit: 100, page: 1 })).toBe("ZAABAA==");
    expect(encodePageToken({ limit: 100, page: 2 })).toBe("ZAACAA==");
    expect(decodePageToken("ZAACAA==")).toEqual({ limit: 100, page: 2 });
  });

  it("default to the first page", () => {
    expect(pageTokenOf([], 100)).toEqual({ limit: 100, page: 1 });
  });

  const bad: Array<[string, string[], string]> = [
    ["two tokens", ["ZAABAA==", "ZAACAA=="], "too many values for page token"],
    ["not base64", ["%%%"], "invalid value of nextPageToken query parameter"],
    ["unpadded", ["ZAABAA"], "invalid value of nextPageToken query parameter"],
    ["empty", [""], "invalid value of nextPageToken query parameter"],
    ["too short", ["ZAA="], "invalid value of nextPageToken query parameter"],
    ["another limit", [encodePageToken({ limit: 5, page: 1 })], "token limit must be 100"],
    ["page zero", [encodePageToken({ limit: 100, page: 0 })], "token page must be greater than zero"],
  ];
  it.each(bad)("refuse %s", (_name, values, message) => {
    expect(() => pageTokenOf(values, 100)).toThrow(new PageTokenError(message));
  });
});

describe("cutPage", () => {
  const all = [1, 2, 3, 4, 5];
  it("cuts the token's page and names the next", () => {
    expect(cutPage(all, { limit: 2, page: 1 })).toEqual({ items: [1, 2], next: { limit: 2, page: 2 } });
    expect(cutPage(all, { limit: 2, page: 3 })).toEqual({ items: [5], next: undefined });
  });
  it("gives a next token after a full last page, as fleet does", () => {
    expect(cutPage([1, 2], { limit: 2, page: 1 }).next).toEqual({ limit: 2, page: 2 });
    expect(cutPage([1, 2], { limit: 2, page: 2 })).toEqual({ items: [], next: undefined });
  });
  it("is empty past the end", () => {
    expect(cutPage([], { limit: 2, page: 1 })).toEqual({ items: [], next: undefined });
  });
});

describe("pageOf: a page the server cut, with fleet's next token", () => {
  const all = Array.from({ length: 250 }, (_, i) => i);
  it.each([1, 2, 3, 4])("page %i of 250 items is what cutPage gives", (page) => {
    const token = { limit: 100, page };
    const start = (page - 1) * 100;
    expect(pageOf(all.slice(start, start + 100), all.length, token)).toEqual(cutPage(all, token));
  });
  it("a full last page still has a next token, as in fleet", () => {
    expect(pageOf(all.slice(0, 100), 100, { limit: 100, page: 1 }).next).toEqual({ limit: 100, page: 2 });
    expect(pageOf([], 100, { limit: 100, page: 2 })).toEqual({ items: [], next: undefined });
  });
});

import { describe, expect, it } from "vitest";
import { RevisionRequests } from "./revision-requests.js";

describe("RevisionRequests", () => {
  it("tells which request wrote a revision, forgets the oldest beyond its bound, and knows nothing of writes without one", () => {
    const r = new RevisionRequests(2);
    r.note(10, "req-a");
    r.note(11, undefined);
    r.note(12, "req-b");
    expect([r.at(10), r.at(11), r.at(12)]).toEqual(["req-a", undefined, "req-b"]);
    r.note(13, "req-c");
    expect([r.at(10), r.at(12), r.at(13)]).toEqual([undefined, "req-b", "req-c"]);
  });
});

describe("RevisionRequests.whenKnown", () => {
  it("answers at once when the revision is known or no write is in flight", async () => {
    const r = new RevisionRequests();
    expect(await r.whenKnown(5, 1000)).toBeUndefined();
    r.note(5, "req-5");
    expect(await r.whenKnown(5, 1000)).toBe("req-5");
  });

  it("waits for a write in flight to answer (the watch was faster), and gives up after its bound", async () => {
    const r = new RevisionRequests();
    r.begin();
    const waiting = r.whenKnown(7, 10_000);
    r.settled(7, "req-7");
    expect(await waiting).toBe("req-7");
    r.begin();
    const t0 = Date.now();
    expect(await r.whenKnown(8, 30)).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
  });
});

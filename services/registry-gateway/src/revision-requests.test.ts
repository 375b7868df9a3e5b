import { describe, expect, it } from "vitest";
import { RevisionRequests } from "./revision-requests.js";

const put = (key: string) => ({ request_put: { key: Buffer.from(key), value: Buffer.from("v") } });

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

  it("names the request whether the write's answer or the watch comes first", () => {
    const r = new RevisionRequests();
    // The answer first: the revision is noted.
    r.settled(r.begin({ success: [put("/fleet/unit/a.service")] }, "req-a"), 7);
    expect(r.of(7, () => ["/fleet/unit/a.service"])).toBe("req-a");
    // The watch first: the write of the key is still in flight.
    const b = r.begin({ success: [put("/fleet/unit/b.service"), put("/fleet/job/b.service/target-state")] }, "req-b");
    expect(r.of(8, () => ["/fleet/job/b.service/target-state"])).toBe("req-b");
    expect(r.of(8, () => ["/fleet/unit/other.service"])).toBeUndefined();
    r.settled(b, 8);
    expect(r.of(8, () => [])).toBe("req-b");
  });

  it("a failed write names nothing once settled; a range delete covers the keys under it; no request, nothing kept", () => {
    const r = new RevisionRequests();
    r.settled(r.begin({ success: [put("/k")] }, "req-x"), undefined);
    expect(r.of(9, () => ["/k"])).toBeUndefined();
    const del = r.begin({ success: [{ request_delete_range: { key: Buffer.from("/fleet/state/m1/"), range_end: Buffer.from("/fleet/state/m10") } }] }, "req-d");
    expect(r.of(10, () => ["/fleet/state/m1/a.service"])).toBe("req-d");
    r.settled(del, 10);
    expect(r.begin({ success: [put("/k")] }, undefined)).toBeUndefined();
    expect(r.of(11, () => ["/k"])).toBeUndefined();
  });
});

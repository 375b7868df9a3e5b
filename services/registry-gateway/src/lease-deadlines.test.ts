import { describe, expect, it } from "vitest";
import { FORGET_AFTER_MS, LeaseDeadlines, type RefreshRoute } from "./lease-deadlines.js";

// Margin 1,000 ms (etcd_request_timeout); times in ms.
const cases: Array<{ name: string; history: Array<{ ttl: number; sentAt: number }>; now: number; route: RefreshRoute }> = [
  { name: "a lease this gateway never saw is asked about first", history: [], now: 0, route: "ask-first" },
  { name: "just granted (ttl 5 s)", history: [{ ttl: 5, sentAt: 0 }], now: 10, route: "keep-alive" },
  { name: "a heartbeat on schedule (ttl/3 later)", history: [{ ttl: 5, sentAt: 0 }], now: 1_667, route: "keep-alive" },
  { name: "two heartbeats missed, still more than the margin left", history: [{ ttl: 5, sentAt: 0 }], now: 3_900, route: "keep-alive" },
  { name: "less than the margin left: it may lapse before etcd sees the refresh", history: [{ ttl: 5, sentAt: 0 }], now: 4_000, route: "ask-first" },
  { name: "past its earliest expiry", history: [{ ttl: 5, sentAt: 0 }], now: 6_000, route: "ask-first" },
  { name: "the last answered refresh counts", history: [{ ttl: 5, sentAt: 0 }, { ttl: 5, sentAt: 3_000 }], now: 6_000, route: "keep-alive" },
  { name: "etcd answered TTL 0: the lease is gone", history: [{ ttl: 5, sentAt: 0 }, { ttl: 0, sentAt: 1_000 }], now: 1_100, route: "ask-first" },
];

describe("LeaseDeadlines.route", () => {
  it.each(cases)("$name → $route", ({ history, now, route }) => {
    const d = new LeaseDeadlines(1_000);
    for (const h of history) d.renewed("7", h.ttl, h.sentAt);
    expect(d.route("7", now)).toBe(route);
  });

  it("forgets a revoked lease", () => {
    const d = new LeaseDeadlines(1_000);
    d.renewed("7", 5, 0);
    d.forget("7");
    expect(d.route("7", 10)).toBe("ask-first");
    expect(d.size).toBe(0);
  });

  it("drops leases long past their deadline once the table has grown, and keeps live ones", () => {
    const d = new LeaseDeadlines(1_000);
    for (let i = 0; i < 2047; i++) d.renewed(`dead-${i}`, 5, 0);
    const later = 5_000 + FORGET_AFTER_MS + 1;
    for (let i = 0; i < 10; i++) d.renewed(`live-${i}`, 5, later);
    expect(d.size).toBe(10);
    expect(d.route("live-3", later + 100)).toBe("keep-alive");
  });
});

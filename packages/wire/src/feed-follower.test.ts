import { describe, expect, it } from "vitest";
import { FakeClock } from "@fleet/domain/fixtures";
import { FeedFollower, type FeedEvent, type FeedSource } from "./feed-follower.js";
import { createLogger } from "./logger.js";

const log = createLogger("feed-follower-test", "silent");

interface Event extends FeedEvent {
  readonly items: string[];
}

/** A source whose streams the test drives; a cancelled stream ends at once, as grpc-js's may. */
class FakeSource implements FeedSource<Event> {
  streams: Array<{ minRevision: number; onEvent: (e: Event) => void; onEnd: (err: Error | undefined) => void; cancelled: boolean }> = [];
  watch(minRevision: number, onEvent: (e: Event) => void, onEnd: (err: Error | undefined) => void): () => void {
    const stream = { minRevision, onEvent, onEnd, cancelled: false };
    this.streams.push(stream);
    return () => {
      stream.cancelled = true;
      onEnd(undefined);
    };
  }
  get last() {
    const s = this.streams.at(-1);
    if (!s) throw new Error("no stream");
    return s;
  }
}

function setup() {
  const clock = new FakeClock();
  const source = new FakeSource();
  const copy: string[] = [];
  const order: string[] = [];
  const follower: FeedFollower<Event> = new FeedFollower(
    source,
    log,
    (e) => {
      if (e.snapshot) copy.length = 0;
      copy.push(...e.items);
      order.push(`apply ${e.revision} (seen ${follower.revision})`);
    },
    { what: "test copy", clock, random: () => 0.5, minBackoffMs: 100, maxBackoffMs: 400, applied: (e) => order.push(`applied ${e.revision} (seen ${follower.revision})`) },
  );
  follower.start();
  return { clock, source, copy, order, follower };
}

describe("FeedFollower", () => {
  it("is synced from the snapshot on, applies the deltas after it, and ignores deltas before one", () => {
    const { source, copy, order, follower } = setup();
    source.last.onEvent({ revision: 3, snapshot: false, items: ["early"] });
    expect(follower.synced).toBe(false);
    expect(copy).toEqual([]);
    source.last.onEvent({ revision: 5, snapshot: true, items: ["a"] });
    source.last.onEvent({ revision: 6, snapshot: false, items: ["b"] });
    expect(follower.synced).toBe(true);
    expect(follower.revision).toBe(6);
    expect(copy).toEqual(["a", "b"]);
    // The owner applies first; `applied` hears it once the revision counts as seen.
    expect(order).toEqual(["apply 5 (seen 0)", "applied 5 (seen 5)", "apply 6 (seen 5)", "applied 6 (seen 6)"]);
  });

  it("re-opens the stream from the revision it holds after a failure, backing off with jitter, and starts over from the new snapshot", () => {
    const { clock, source, copy, follower } = setup();
    source.last.onEvent({ revision: 5, snapshot: true, items: ["a"] });
    source.last.onEnd(new Error("gateway went away"));
    expect(follower.synced).toBe(false);
    clock.advance(99);
    expect(source.streams).toHaveLength(1);
    clock.advance(1);
    expect(source.streams).toHaveLength(2);
    expect(source.last.minRevision).toBe(5);
    source.last.onEnd(new Error("again"));
    clock.advance(199);
    expect(source.streams).toHaveLength(2);
    clock.advance(1);
    expect(source.streams).toHaveLength(3);
    source.last.onEvent({ revision: 9, snapshot: true, items: ["b"] });
    expect(copy).toEqual(["b"]);
    expect(follower.synced).toBe(true);
  });

  it("a re-sync opens exactly one new stream, even when the old one ends as it is cancelled", () => {
    const { clock, source, follower } = setup();
    source.last.onEvent({ revision: 5, snapshot: true, items: ["a"] });
    follower.resync("lagging");
    clock.advance(10_000);
    expect(source.streams).toHaveLength(2);
    expect(source.streams[0]?.cancelled).toBe(true);
    // A late message of the cancelled stream changes nothing.
    source.streams[0]?.onEvent({ revision: 7, snapshot: false, items: ["late"] });
    expect(follower.revision).toBe(5);
    source.last.onEvent({ revision: 8, snapshot: true, items: ["b"] });
    expect(follower.synced).toBe(true);
  });

  it("waitFor resolves once the revision arrives, false after its timeout, when the stream ends or the follower stops", async () => {
    const { clock, source, follower } = setup();
    expect(await follower.waitFor(1, 1000)).toBe(false); // not synced
    source.last.onEvent({ revision: 5, snapshot: true, items: [] });
    expect(await follower.waitFor(5, 1000)).toBe(true);
    const arrives = follower.waitFor(7, 1000);
    source.last.onEvent({ revision: 7, snapshot: false, items: [] });
    expect(await arrives).toBe(true);
    const times = follower.waitFor(8, 1000);
    clock.advance(1000);
    expect(await times).toBe(false);
    const ends = follower.waitFor(8, 1000);
    source.last.onEnd(new Error("gone"));
    expect(await ends).toBe(false);
    clock.advance(1000);
    source.last.onEvent({ revision: 8, snapshot: true, items: [] });
    const stops = follower.waitFor(9, 1000);
    follower.stop();
    expect(await stops).toBe(false);
    clock.advance(10_000);
    expect(source.streams).toHaveLength(2);
  });
});

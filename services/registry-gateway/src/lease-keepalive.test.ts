import { describe, expect, it } from "vitest";
import { EtcdStreamEndedError, EtcdStreamTimeoutError } from "./etcd-retry.js";
import { LeaseKeepAlives, type KeepAliveResponse, type KeepAliveStream } from "./lease-keepalive.js";

/** A keep-alive stream whose answers the test gives. */
class FakeStream implements KeepAliveStream {
  readonly written: string[] = [];
  ended = false;
  cancelled = false;
  private readonly listeners: { data: Array<(r: KeepAliveResponse) => void>; error: Array<(e: Error) => void>; end: Array<() => void> } = { data: [], error: [], end: [] };

  write(request: { ID: string }): void {
    this.written.push(request.ID);
  }
  on(event: "data" | "error" | "end", fn: never): this {
    (this.listeners[event] as unknown[]).push(fn);
    return this;
  }
  end(): void {
    this.ended = true;
  }
  cancel(): void {
    this.cancelled = true;
  }
  answer(ID: string, TTL: number): void {
    for (const fn of this.listeners.data) fn({ ID, TTL: String(TTL) });
  }
  fail(err: Error): void {
    for (const fn of this.listeners.error) fn(err);
  }
}

function manualClock() {
  const timers = new Map<number, () => void>();
  let next = 1;
  return {
    setTimeout: (fn: () => void) => {
      timers.set(next, fn);
      return next++;
    },
    clearTimeout: (id: unknown) => void timers.delete(id as number),
    fireAll() {
      const due = [...timers.values()];
      timers.clear();
      for (const fn of due) fn();
    },
    get pending() {
      return timers.size;
    },
  };
}

function setup(poolSize = 1) {
  const streams: FakeStream[] = [];
  const clock = manualClock();
  const time = { ms: 0 };
  const keepAlives = new LeaseKeepAlives(
    async () => {
      const s = new FakeStream();
      streams.push(s);
      return s;
    },
    { timeoutMs: 1000, streams: poolSize, clock, now: () => time.ms },
  );
  return { streams, clock, keepAlives, time };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("LeaseKeepAlives", () => {
  it("sends one refresh at a time on a stream and answers each in turn", async () => {
    const { streams, keepAlives } = setup(1);
    const a = keepAlives.keepAlive("101");
    const b = keepAlives.keepAlive("202");
    await settle();
    expect(streams).toHaveLength(1);
    // The second waits in the gateway, not behind the first at etcd.
    expect(streams[0]?.written).toEqual(["101"]);
    expect(keepAlives.outstanding).toBe(2);
    streams[0]?.answer("101", 7);
    await expect(a).resolves.toBe(7);
    expect(streams[0]?.written).toEqual(["101", "202"]);
    streams[0]?.answer("202", 0);
    await expect(b).resolves.toBe(0);
    // The stream stays open for the next heartbeats.
    const c = keepAlives.keepAlive("101");
    await settle();
    streams[0]?.answer("101", 7);
    await expect(c).resolves.toBe(7);
    expect(keepAlives.opened).toBe(1);
    expect(keepAlives.outstanding).toBe(0);
  });

  it("writes one refresh for concurrent refreshes of one lease and answers them all", async () => {
    const { streams, keepAlives } = setup(4);
    const first = keepAlives.keepAlive("101");
    const second = keepAlives.keepAlive("101");
    await settle();
    expect(streams.flatMap((s) => s.written)).toEqual(["101"]);
    streams[0]?.answer("101", 9);
    await expect(Promise.all([first, second])).resolves.toEqual([9, 9]);
  });

  it("fails the refresh in flight and the queued ones when etcd breaks the stream, and opens a new stream for the next", async () => {
    const { streams, keepAlives } = setup(1);
    const a = keepAlives.keepAlive("101");
    const b = keepAlives.keepAlive("202");
    await settle();
    const broken = Object.assign(new Error("14 UNAVAILABLE: Connection dropped"), { code: 14 });
    streams[0]?.fail(broken);
    await expect(a).rejects.toBe(broken);
    await expect(b).rejects.toBe(broken);
    expect(streams).toHaveLength(1);
    const c = keepAlives.keepAlive("101");
    await settle();
    expect(streams).toHaveLength(2);
    streams[1]?.answer("101", 5);
    await expect(c).resolves.toBe(5);
  });

  it("a refresh without an answer in time fails; its retry joins the refresh still in flight", async () => {
    const { streams, clock, keepAlives, time } = setup(1);
    const slow = keepAlives.keepAlive("101");
    await settle();
    time.ms = 1000;
    clock.fireAll();
    await expect(slow).rejects.toBeInstanceOf(EtcdStreamTimeoutError);
    expect(streams[0]?.cancelled).toBe(false);
    const retry = keepAlives.keepAlive("101");
    await settle();
    expect(streams[0]?.written).toEqual(["101"]);
    streams[0]?.answer("101", 5);
    await expect(retry).resolves.toBe(5);
    expect(keepAlives.outstanding).toBe(0);
  });

  it("takes a stream whose refresh waited 2 × the timeout for stuck: cancels it and sends the next on a new one", async () => {
    const { streams, clock, keepAlives, time } = setup(1);
    const a = keepAlives.keepAlive("101");
    await settle();
    time.ms = 1000;
    clock.fireAll();
    await expect(a).rejects.toBeInstanceOf(EtcdStreamTimeoutError);
    expect(streams[0]?.cancelled).toBe(false);
    const retry = keepAlives.keepAlive("101");
    await settle();
    time.ms = 2000;
    clock.fireAll();
    await expect(retry).rejects.toBeInstanceOf(EtcdStreamTimeoutError);
    expect(streams[0]?.ended).toBe(true);
    expect(streams[0]?.cancelled).toBe(true);
    expect(keepAlives.stuck).toBe(1);
    const b = keepAlives.keepAlive("202");
    await settle();
    expect(streams).toHaveLength(2);
    expect(streams[1]?.written).toEqual(["202"]);
    streams[1]?.answer("202", 3);
    await expect(b).resolves.toBe(3);
    expect(clock.pending).toBe(0);
  });

  it("a lease etcd holds blocks only its own stream: the other heartbeats go on the other streams", async () => {
    const { streams, keepAlives } = setup(4);
    // etcd holds the answer for an expired, not yet revoked lease.
    const held = keepAlives.keepAlive("dead");
    await settle();
    for (let round = 0; round < 3; round++) {
      const others = ["1", "2", "3"].map((id) => keepAlives.keepAlive(id));
      await settle();
      for (const s of streams.slice(1)) {
        const last = s.written.at(-1);
        if (last) s.answer(last, 5);
      }
      await expect(Promise.all(others)).resolves.toEqual([5, 5, 5]);
    }
    expect(streams).toHaveLength(4);
    expect(streams[0]?.written).toEqual(["dead"]);
    streams[0]?.answer("dead", 0);
    await expect(held).resolves.toBe(0);
  });

  it("opens no more streams than the pool holds; the rest wait their turn", async () => {
    const { streams, keepAlives } = setup(2);
    const all = ["1", "2", "3", "4", "5"].map((id) => keepAlives.keepAlive(id));
    await settle();
    expect(streams).toHaveLength(2);
    for (let i = 0; i < 3; i++) {
      for (const s of streams) {
        const last = s.written.at(-1);
        if (last) s.answer(last, 5);
      }
      await settle();
    }
    await expect(Promise.all(all)).resolves.toEqual([5, 5, 5, 5, 5]);
    expect(streams.flatMap((s) => s.written).sort()).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("does not send a queued refresh nobody waits for any more", async () => {
    const { streams, clock, keepAlives, time } = setup(1);
    const a = keepAlives.keepAlive("101");
    const b = keepAlives.keepAlive("202");
    await settle();
    time.ms = 1000;
    clock.fireAll();
    await expect(a).rejects.toBeInstanceOf(EtcdStreamTimeoutError);
    await expect(b).rejects.toBeInstanceOf(EtcdStreamTimeoutError);
    streams[0]?.answer("101", 5);
    await settle();
    expect(streams[0]?.written).toEqual(["101"]);
    expect(keepAlives.outstanding).toBe(0);
  });

  it("close fails what waits, and every refresh after it", async () => {
    const { streams, keepAlives } = setup(2);
    const all = ["1", "2", "3"].map((id) => keepAlives.keepAlive(id));
    await settle();
    expect(streams).toHaveLength(2);
    keepAlives.close();
    for (const p of all) await expect(p).rejects.toBeInstanceOf(EtcdStreamEndedError);
    await expect(keepAlives.keepAlive("1")).rejects.toBeInstanceOf(EtcdStreamEndedError);
  });
});

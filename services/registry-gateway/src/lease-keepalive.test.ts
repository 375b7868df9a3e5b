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
  it("refreshes many leases over one stream and matches each answer by lease ID", async () => {
    const { streams, keepAlives } = setup();
    const a = keepAlives.keepAlive("101");
    const b = keepAlives.keepAlive("202");
    const c = keepAlives.keepAlive("303");
    await settle();
    expect(streams).toHaveLength(1);
    expect(streams[0]?.written).toEqual(["101", "202", "303"]);
    // Answers in another order than the requests.
    streams[0]?.answer("303", 5);
    streams[0]?.answer("101", 7);
    streams[0]?.answer("202", 0);
    await expect(Promise.all([a, b, c])).resolves.toEqual([7, 0, 5]);
    // The stream stays open for the next heartbeats.
    const d = keepAlives.keepAlive("101");
    await settle();
    streams[0]?.answer("101", 7);
    await expect(d).resolves.toBe(7);
    expect(streams).toHaveLength(1);
    expect(keepAlives.opened).toBe(1);
  });

  it("answers TTL 0 for a lease etcd no longer has", async () => {
    const { streams, keepAlives } = setup();
    const gone = keepAlives.keepAlive("404");
    await settle();
    streams[0]?.answer("404", 0);
    await expect(gone).resolves.toBe(0);
  });

  it("writes one request for concurrent refreshes of one lease and answers them all", async () => {
    const { streams, keepAlives } = setup();
    const first = keepAlives.keepAlive("101");
    const second = keepAlives.keepAlive("101");
    await settle();
    expect(streams[0]?.written).toEqual(["101"]);
    streams[0]?.answer("101", 9);
    await expect(Promise.all([first, second])).resolves.toEqual([9, 9]);
  });

  it("fails every waiting refresh when the stream breaks, and opens a new stream for the next", async () => {
    const { streams, keepAlives } = setup();
    const a = keepAlives.keepAlive("101");
    const b = keepAlives.keepAlive("202");
    await settle();
    const broken = Object.assign(new Error("14 UNAVAILABLE: Connection dropped"), { code: 14 });
    streams[0]?.fail(broken);
    await expect(a).rejects.toBe(broken);
    await expect(b).rejects.toBe(broken);
    const c = keepAlives.keepAlive("101");
    await settle();
    expect(streams).toHaveLength(2);
    streams[1]?.answer("101", 5);
    await expect(c).resolves.toBe(5);
  });

  it("a refresh without an answer in time fails alone; its retry joins the request still outstanding", async () => {
    const { streams, clock, keepAlives, time } = setup();
    const slow = keepAlives.keepAlive("101");
    const other = keepAlives.keepAlive("202");
    await settle();
    streams[0]?.answer("202", 5);
    await expect(other).resolves.toBe(5);
    time.ms = 1000;
    clock.fireAll();
    await expect(slow).rejects.toBeInstanceOf(EtcdStreamTimeoutError);
    expect(streams[0]?.cancelled).toBe(false);
    // The retry writes nothing new: a second request would only queue behind the first.
    const retry = keepAlives.keepAlive("101");
    await settle();
    expect(streams[0]?.written).toEqual(["101", "202"]);
    expect(keepAlives.outstanding).toBe(1);
    streams[0]?.answer("101", 5);
    await expect(retry).resolves.toBe(5);
    expect(streams).toHaveLength(1);
    expect(keepAlives.outstanding).toBe(0);
  });

  it("takes a stream whose oldest request waited 2 × the timeout for stuck: cancels it, and the next refresh opens a new one", async () => {
    const { streams, clock, keepAlives, time } = setup();
    const a = keepAlives.keepAlive("101");
    await settle();
    time.ms = 1000;
    clock.fireAll();
    await expect(a).rejects.toBeInstanceOf(EtcdStreamTimeoutError);
    // Slow, not yet stuck: the stream stays.
    expect(streams[0]?.cancelled).toBe(false);
    const retry = keepAlives.keepAlive("101");
    await settle();
    time.ms = 2000;
    clock.fireAll();
    await expect(retry).rejects.toBeInstanceOf(EtcdStreamTimeoutError);
    expect(streams[0]?.ended).toBe(true);
    expect(streams[0]?.cancelled).toBe(true);
    expect(keepAlives.stuck).toBe(1);
    const b = keepAlives.keepAlive("101");
    await settle();
    expect(streams).toHaveLength(2);
    expect(streams[1]?.written).toEqual(["101"]);
    streams[1]?.answer("101", 3);
    await expect(b).resolves.toBe(3);
    expect(clock.pending).toBe(0);
  });

  it("a stream that keeps answering others is slow, not stuck, however old its oldest request", async () => {
    const { streams, clock, keepAlives, time } = setup();
    const held = keepAlives.keepAlive("101");
    await settle();
    for (let t = 500; t <= 2500; t += 500) {
      time.ms = t;
      const other = keepAlives.keepAlive(`o${t}`);
      await settle();
      streams[0]?.answer(`o${t}`, 5);
      await expect(other).resolves.toBe(5);
    }
    clock.fireAll();
    await expect(held).rejects.toBeInstanceOf(EtcdStreamTimeoutError);
    const retry = keepAlives.keepAlive("101");
    await settle();
    time.ms = 3000;
    clock.fireAll();
    await expect(retry).rejects.toBeInstanceOf(EtcdStreamTimeoutError);
    expect(streams[0]?.cancelled).toBe(false);
    expect(keepAlives.stuck).toBe(0);
  });

  it("with a pool, a lease etcd holds blocks only its own stream: other heartbeats go to free streams", async () => {
    const { streams, keepAlives } = setup(4);
    // etcd holds the answer for an expired, not yet revoked lease, and answers a stream in order.
    const held = keepAlives.keepAlive("dead");
    await settle();
    const others = ["1", "2", "3"].map((id) => keepAlives.keepAlive(id));
    await settle();
    expect(streams).toHaveLength(4);
    expect(streams.map((s) => s.written)).toEqual([["dead"], ["1"], ["2"], ["3"]]);
    streams[1]?.answer("1", 5);
    streams[2]?.answer("2", 5);
    streams[3]?.answer("3", 5);
    await expect(Promise.all(others)).resolves.toEqual([5, 5, 5]);
    // The next round avoids the held stream.
    const next = ["1", "2", "3"].map((id) => keepAlives.keepAlive(id));
    await settle();
    expect(streams[0]?.written).toEqual(["dead"]);
    expect(streams).toHaveLength(4);
    streams[1]?.answer("1", 5);
    streams[2]?.answer("2", 5);
    streams[3]?.answer("3", 5);
    await expect(Promise.all(next)).resolves.toEqual([5, 5, 5]);
    streams[0]?.answer("dead", 0);
    await expect(held).resolves.toBe(0);
  });

  it("opens no more streams than the pool holds, and spreads requests over them", async () => {
    const { streams, keepAlives } = setup(2);
    const all = ["1", "2", "3", "4", "5"].map((id) => keepAlives.keepAlive(id));
    await settle();
    expect(streams).toHaveLength(2);
    expect(streams.reduce((n, s) => n + s.written.length, 0)).toBe(5);
    expect(Math.abs((streams[0]?.written.length ?? 0) - (streams[1]?.written.length ?? 0))).toBeLessThanOrEqual(1);
    for (const s of streams) for (const id of s.written) s.answer(id, 5);
    await expect(Promise.all(all)).resolves.toEqual([5, 5, 5, 5, 5]);
  });

  it("shares one opening among refreshes that arrive while the stream opens; close fails what waits", async () => {
    const { streams, keepAlives } = setup();
    const all = ["1", "2", "3"].map((id) => keepAlives.keepAlive(id));
    await settle();
    expect(streams).toHaveLength(1);
    keepAlives.close();
    for (const p of all) await expect(p).rejects.toBeInstanceOf(EtcdStreamEndedError);
    await expect(keepAlives.keepAlive("1")).rejects.toBeInstanceOf(EtcdStreamEndedError);
  });
});

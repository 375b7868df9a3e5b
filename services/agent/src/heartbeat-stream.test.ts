import { EventEmitter, once } from "node:events";
import { createServer, connect, type Socket } from "node:net";
import { TargetState, type MachineHeartbeatsRequest, type MachineHeartbeatsResponse } from "@fleet/wire";
import { describe, expect, it } from "vitest";
import { HeartbeatStream, type HeartbeatDuplex } from "./heartbeat-stream.js";

/** A stream whose gateway side the test plays. */
class FakeDuplex extends EventEmitter implements HeartbeatDuplex {
  readonly written: MachineHeartbeatsRequest[] = [];
  cancelled = false;
  write(req: MachineHeartbeatsRequest): void {
    this.written.push(req);
  }
  cancel(): void {
    this.cancelled = true;
  }
  answer(seq: number, res: Partial<MachineHeartbeatsResponse> = {}): void {
    this.emit("data", { seq, alive: true, errorKind: "", errorMessage: "", scheduleRevision: 0, acceptsReports: false, acceptsScheduleReads: false, ...res });
  }
}

function setup() {
  const streams: FakeDuplex[] = [];
  const hb = new HeartbeatStream(() => {
    const s = new FakeDuplex();
    streams.push(s);
    return s;
  });
  return { hb, streams };
}

describe("the agent's heartbeat stream", () => {
  it("sends every heartbeat on one stream and matches answers by seq", async () => {
    const { hb, streams } = setup();
    const a = hb.beat("m", "1", 1_000);
    const b = hb.beat("m", "1", 1_000);
    expect(streams).toHaveLength(1);
    const [s] = streams as [FakeDuplex];
    expect(s.written.map((r) => r.seq)).toEqual([1, 2]);
    s.answer(2, { alive: false });
    s.answer(1, { scheduleRevision: 42 });
    await expect(a).resolves.toEqual({ alive: true, scheduleRevision: 42 });
    await expect(b).resolves.toEqual({ alive: false, scheduleRevision: 0 });
  });

  it("fails a heartbeat the gateway could not do with its kind, and one not answered in time", async () => {
    const { hb, streams } = setup();
    const a = hb.beat("m", "1", 1_000);
    streams[0]?.answer(1, { errorKind: "unavailable", errorMessage: "etcd is unavailable" });
    await expect(a).rejects.toMatchObject({ kind: "unavailable", message: "etcd is unavailable" });
    await expect(hb.beat("m", "1", 10)).rejects.toMatchObject({ kind: "deadline-exceeded" });
    // A late answer is dropped; the stream stays.
    streams[0]?.answer(2);
    expect(streams).toHaveLength(1);
  });

  it("an answer that arrived while the agent's own loop was blocked past the deadline still counts", async () => {
    // The gateway's side is a real loopback socket: its answer waits in the kernel while this
    // process is busy, as a real answer would while an agent starts hundreds of units.
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const accepted = once(server, "connection");
    const client = connect(address.port, "127.0.0.1");
    await once(client, "connect");
    const [gatewaySide] = (await accepted) as [Socket];
    try {
      const hb = new HeartbeatStream(() => {
        const duplex = new FakeDuplex();
        // The gateway answers at once, over the socket; the client side delivers it as grpc-js would.
        duplex.write = (req) => void gatewaySide.write(`${req.seq}\n`);
        client.on("data", (chunk) => {
          for (const seq of chunk.toString().split("\n").filter(Boolean)) duplex.answer(Number(seq), { scheduleRevision: 7 });
        });
        return duplex;
      });
      const beat = hb.beat("m", "1", 20);
      const until = performance.now() + 100;
      while (performance.now() < until); // the agent's loop blocked for 5 deadlines
      await expect(beat).resolves.toEqual({ alive: true, scheduleRevision: 7 });
    } finally {
      client.destroy();
      gatewaySide.destroy();
      server.close();
    }
  });

  it("a broken stream fails the heartbeats waiting on it, and the next one opens a new stream", async () => {
    const { hb, streams } = setup();
    const a = hb.beat("m", "1", 1_000);
    streams[0]?.emit("error", new Error("14 UNAVAILABLE: Connection dropped"));
    await expect(a).rejects.toMatchObject({ kind: "unavailable" });
    const b = hb.beat("m", "1", 1_000);
    expect(streams).toHaveLength(2);
    streams[1]?.answer(2);
    await expect(b).resolves.toMatchObject({ alive: true });
    hb.close();
    expect(streams[1]?.cancelled).toBe(true);
  });

  it("sends state reports on the stream once its gateway said it takes them, and forgets that when the stream breaks", async () => {
    const { hb, streams } = setup();
    expect(hb.acceptsReports).toBe(false);
    const beat = hb.beat("m", "1", 1_000);
    streams[0]?.answer(1, { acceptsReports: true });
    await beat;
    expect(hb.acceptsReports).toBe(true);
    const state = { name: "a.service", hash: "h", machineId: "m", loadState: "loaded", activeState: "active", subState: "running", currentState: "launched" as const };
    const ok = hb.report("m", "1", [state], ["b.service"], 1_000);
    const refused = hb.report("m", "1", [state], [], 1_000);
    const [s] = streams as [FakeDuplex];
    expect(s.written[1]).toMatchObject({ seq: 2, machineId: "m", leaseId: "1", report: { states: [{ name: "a.service", activeState: "active", currentState: TargetState.TARGET_STATE_LAUNCHED }], removed: ["b.service"] } });
    s.answer(3, { errorKind: "failed-precondition", errorMessage: "machine m is not registered under lease 1", acceptsReports: true });
    s.answer(2, { acceptsReports: true });
    await expect(ok).resolves.toBeUndefined();
    await expect(refused).rejects.toMatchObject({ kind: "failed-precondition", message: "machine m is not registered under lease 1" });
    await expect(hb.report("m", "1", [], ["a.service"], 10)).rejects.toMatchObject({ kind: "deadline-exceeded", message: expect.stringMatching(/^state report: no answer/) });
    s.emit("error", new Error("14 UNAVAILABLE: Connection dropped"));
    expect(hb.acceptsReports).toBe(false);
  });

  it("reads the machine's schedule on the stream once its gateway said it answers reads there", async () => {
    const { hb, streams } = setup();
    const beat = hb.beat("m", "1", 1_000);
    streams[0]?.answer(1, { acceptsScheduleReads: true });
    await beat;
    expect([hb.acceptsScheduleReads, hb.acceptsReports]).toEqual([true, false]);
    const read = hb.readSchedule("m", 12, 1_000);
    const [s] = streams as [FakeDuplex];
    expect(s.written[1]).toMatchObject({ seq: 2, machineId: "m", scheduleRead: { minRevision: 12 } });
    s.answer(2, { acceptsScheduleReads: true, schedule: { units: [], machines: [], revision: 15 } });
    await expect(read).resolves.toEqual({ units: [], machines: [], revision: 15 });
    const failing = hb.readSchedule("m", 0, 1_000);
    s.answer(3, { errorKind: "unavailable", errorMessage: "etcd is unavailable", acceptsScheduleReads: true });
    await expect(failing).rejects.toMatchObject({ kind: "unavailable" });
  });
});

import { EventEmitter, once } from "node:events";
import { createServer, connect, type Socket } from "node:net";
import type { MachineHeartbeatsRequest, MachineHeartbeatsResponse } from "@fleet/wire";
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
    this.emit("data", { seq, alive: true, errorKind: "", errorMessage: "", scheduleRevision: 0, ...res });
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
});

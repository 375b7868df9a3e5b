// The agent's D-Bus calls against a real dbus-daemon with the system bus's limit of 128 pending
// replies per connection, and a stand-in for systemd that answers StartUnit after a while (as a
// busy systemd does) and then signals the job's end: 300 starts at once overflow the limit when
// sent all together, and all succeed through the agent's bounded connection.
import dbus from "dbus-next";
import { DbusUnitManager } from "@fleet/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateBus, type PrivateBus } from "./private-bus.js";

const SYSTEMD = "org.freedesktop.systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
const UNITS = 300;
const REPLY_DELAY_MS = 30;

describe("the agent's D-Bus calls past the pending-reply limit", () => {
  let bus: PrivateBus | undefined;
  let address: string;
  let systemd: dbus.MessageBus;
  let peakPending = 0;
  let pending = 0;
  let jobs = 0;

  beforeAll(async () => {
    bus = await startPrivateBus({ max_replies_per_connection: 128 });
    address = bus.address;
    systemd = dbus.sessionBus({ busAddress: address });
    await systemd.requestName(SYSTEMD, 0);
    // A busy systemd: StartUnit answers after REPLY_DELAY_MS with a job, whose end it signals.
    systemd.addMethodHandler((msg: dbus.Message) => {
      if (msg.member === "Subscribe") {
        systemd.send(dbus.Message.newMethodReturn(msg, "", []));
        return true;
      }
      if (msg.member !== "StartUnit") return false;
      const [unit] = msg.body as [string];
      const id = ++jobs;
      const job = `/org/freedesktop/systemd1/job/${id}`;
      peakPending = Math.max(peakPending, ++pending);
      setTimeout(() => {
        pending--;
        systemd.send(dbus.Message.newMethodReturn(msg, "o", [job]));
        systemd.send(new dbus.Message({ type: dbus.MessageType.SIGNAL, path: "/org/freedesktop/systemd1", interface: MANAGER, member: "JobRemoved", signature: "uoss", body: [id, job, unit, "done"] }));
      }, REPLY_DELAY_MS);
      return true;
    });
  });

  afterAll(() => {
    systemd?.disconnect();
    bus?.stop();
  });

  const names = Array.from({ length: UNITS }, (_, i) => `u${i}.service`);

  it("sent all at once, dbus-daemon refuses the calls past 128 pending (what the agent did before)", async () => {
    const bus = dbus.sessionBus({ busAddress: address });
    try {
      const results = await Promise.allSettled(
        names.map((n) => bus.call(new dbus.Message({ destination: SYSTEMD, path: "/org/freedesktop/systemd1", interface: MANAGER, member: "StartUnit", signature: "ss", body: [n, "replace"] }))),
      );
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(refused.length).toBeGreaterThan(0);
      expect(String((refused[0]?.reason as Error).message)).toContain("The maximum number of pending replies per connection has been reached");
    } finally {
      bus.disconnect();
    }
  });

  it("through the agent's connection all 300 start, in one go", async () => {
    peakPending = 0;
    const manager = await DbusUnitManager.connect(dbus.sessionBus({ busAddress: address }));
    try {
      const t = performance.now();
      const results = await Promise.all(names.map((n) => manager.startUnit(n, 10_000)));
      const ms = performance.now() - t;
      expect(results).toEqual(names.map(() => "done"));
      expect(peakPending).toBeLessThanOrEqual(64);
      // 300 calls, 64 at a time, each answered after 30 ms: about 5 rounds.
      expect(ms).toBeLessThan(5000);
    } finally {
      manager.close();
    }
  });
});

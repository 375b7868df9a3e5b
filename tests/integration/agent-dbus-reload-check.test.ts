// The agent's NeedDaemonReload check against a real dbus-daemon and a stand-in for systemd that
// answers org.freedesktop.DBus.Properties.Get on unit objects, as systemd does: the units whose
// file changed on disk since systemd loaded it are those the agent reloads for before starting.
import dbus from "dbus-next";
import { DbusUnitManager } from "@fleet/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateBus, type PrivateBus } from "./private-bus.js";

const SYSTEMD = "org.freedesktop.systemd1";
const UNIT_PREFIX = "/org/freedesktop/systemd1/unit/";
// dbus-next's types say newError takes a string; it takes the call it answers.
const newError = dbus.Message.newError as unknown as (call: dbus.Message, name: string, text: string) => dbus.Message;

describe("the agent's NeedDaemonReload check", () => {
  let bus: PrivateBus | undefined;
  let address: string;
  let systemd: dbus.MessageBus;
  const asked: string[] = [];

  beforeAll(async () => {
    bus = await startPrivateBus();
    address = bus.address;
    systemd = dbus.sessionBus({ busAddress: address });
    await systemd.requestName(SYSTEMD, 0);
    // stale.service's file changed since it was loaded; fresh.service's did not; odd.service
    // cannot be asked (systemd answers with an error).
    systemd.addMethodHandler((msg: dbus.Message) => {
      if (msg.member === "Subscribe") {
        systemd.send(dbus.Message.newMethodReturn(msg, "", []));
        return true;
      }
      if (msg.interface !== "org.freedesktop.DBus.Properties" || msg.member !== "Get" || !msg.path.startsWith(UNIT_PREFIX)) return false;
      const [iface, property] = msg.body as [string, string];
      const unit = msg.path.slice(UNIT_PREFIX.length);
      asked.push(`${unit} ${iface} ${property}`);
      if (unit === "odd_2eservice") {
        systemd.send(newError(msg, "org.freedesktop.DBus.Error.AccessDenied", "Access denied"));
        return true;
      }
      systemd.send(dbus.Message.newMethodReturn(msg, "v", [new dbus.Variant("b", unit === "stale_2eservice")]));
      return true;
    });
  });

  afterAll(() => {
    systemd?.disconnect();
    bus?.stop();
  });

  it("names the units systemd holds an older copy of, and those it cannot say about (the safe side)", async () => {
    const manager = await DbusUnitManager.connect(dbus.sessionBus({ busAddress: address }));
    try {
      expect(await manager.needingReload(["fresh.service", "stale.service", "odd.service"])).toEqual(["stale.service", "odd.service"]);
      expect(asked).toContain("stale_2eservice org.freedesktop.systemd1.Unit NeedDaemonReload");
      expect(await manager.needingReload([])).toEqual([]);
    } finally {
      manager.close();
    }
  });
});

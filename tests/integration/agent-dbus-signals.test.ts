// The agent's D-Bus signal subscriptions against a real dbus-daemon (a private bus), with a
// stand-in for systemd that owns its name and emits PropertiesChanged the way it does: the
// agent hears about the units it watches, and only those, also past dbus-daemon's per-
// connection limit of match rules, where it falls back to one rule for every unit.
import dbus from "dbus-next";
import { DbusUnitManager, MAX_UNIT_MATCHES } from "@fleet/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateBus, type PrivateBus } from "./private-bus.js";

const SYSTEMD = "org.freedesktop.systemd1";

function unitPath(name: string): string {
  return `/org/freedesktop/systemd1/unit/${name.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}`;
}

describe("the agent's D-Bus subscriptions", () => {
  let bus: PrivateBus | undefined;
  let address: string;
  let systemd: dbus.MessageBus;
  let agentBus: dbus.MessageBus;
  let manager: DbusUnitManager;
  const heard: string[] = [];

  beforeAll(async () => {
    // A session-type bus with dbus-daemon's system-bus limit of 512 match rules per connection.
    bus = await startPrivateBus({ max_match_rules_per_connection: 512 });
    address = bus.address;
    systemd = dbus.sessionBus({ busAddress: address });
    await systemd.requestName(SYSTEMD, 0);
    systemd.addMethodHandler((msg: dbus.Message) => {
      if (msg.member !== "Subscribe") return false;
      systemd.send(dbus.Message.newMethodReturn(msg, "", []));
      return true;
    });
    agentBus = dbus.sessionBus({ busAddress: address });
    manager = await DbusUnitManager.connect(agentBus);
    manager.onUnitChange((path, changed) => heard.push(`${path} ${changed.ActiveState ?? ""}`));
  });

  afterAll(() => {
    manager?.close();
    systemd?.disconnect();
    bus?.stop();
  });

  /** systemd's PropertiesChanged for a unit's Unit (or Service) interface; resolves once the bus had time to route it. */
  async function signal(name: string, state: string, iface = "org.freedesktop.systemd1.Unit"): Promise<void> {
    systemd.send(
      new dbus.Message({
        type: dbus.MessageType.SIGNAL,
        path: unitPath(name),
        interface: "org.freedesktop.DBus.Properties",
        member: "PropertiesChanged",
        signature: "sa{sv}as",
        body: [iface, { ActiveState: new dbus.Variant("s", state), SubState: new dbus.Variant("s", "running") }, []],
      }),
    );
    // A round trip through the daemon after the signal: the signal was routed before its reply.
    await agentBus.call(new dbus.Message({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "GetId" }));
  }

  it("hears the Unit interface of watched units only", async () => {
    heard.length = 0;
    await manager.watchUnits(["a.service", "b-1.service"]);
    await signal("a.service", "active");
    await signal("b-1.service", "activating");
    await signal("c.service", "active");
    await signal("a.service", "active", "org.freedesktop.systemd1.Service");
    await manager.unwatchUnits(["a.service"]);
    await signal("a.service", "inactive");
    expect(heard).toEqual([`${unitPath("a.service")} active`, `${unitPath("b-1.service")} activating`]);
  });

  it("past the per-connection limit of match rules, still hears every unit it watches", async () => {
    heard.length = 0;
    const many = Array.from({ length: MAX_UNIT_MATCHES + 50 }, (_, i) => `u${i}.service`);
    await manager.watchUnits(many.slice(0, MAX_UNIT_MATCHES - 10));
    await manager.watchUnits(many.slice(MAX_UNIT_MATCHES - 10));
    await signal("u0.service", "active");
    await signal(`u${MAX_UNIT_MATCHES + 49}.service`, "active");
    expect(heard).toEqual([`${unitPath("u0.service")} active`, `${unitPath(`u${MAX_UNIT_MATCHES + 49}.service`)} active`]);
  });
});

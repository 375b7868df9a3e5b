import { describe, expect, it } from "vitest";
import { endpointListTarget, endpointsOfTargetPath, parseEndpointList, parseHostPort, spreadEndpoints } from "./endpoint-list.js";

describe("parseEndpointList", () => {
  it.each([
    ["one IPv4 endpoint", "127.0.0.1:49400", ["127.0.0.1:49400"]],
    ["two, spaces around commas", "127.0.0.1:1, 127.0.0.1:2", ["127.0.0.1:1", "127.0.0.1:2"]],
    ["host names", "gw-1.fleet.svc:49400,gw-2:49400,localhost:1", ["gw-1.fleet.svc:49400", "gw-2:49400", "localhost:1"]],
    ["IPv6 in brackets", "[::1]:49400,[fe80::1%eth0]:2", ["[::1]:49400", "[fe80::1%eth0]:2"]],
    ["a fully qualified name", "gw.example.com.:443", ["gw.example.com.:443"]],
    ["a unix socket alone", "unix:///run/fleet/gateway.sock", ["unix:///run/fleet/gateway.sock"]],
  ])("accepts %s", (_name, raw, want) => {
    expect(parseEndpointList("gateway_endpoint", raw)).toEqual(want);
  });

  it.each([
    ["nothing", "", 'is empty'],
    ["no port", "nowhere", 'has an entry "nowhere" that is not host:port'],
    ["a trailing comma", "127.0.0.1:1,", "has an empty entry"],
    ["port 0", "gw:0", "has no port between 1 and 65535"],
    ["a port too large", "gw:65536", "has no port between 1 and 65535"],
    ["a bare IPv6 address", "::1:49400", "write an IPv6 address in brackets"],
    ["a bad host name", "gw_1:49400", "has no valid host name"],
    ["a URL", "http://gw:49400", 'has an entry "http://gw:49400"'],
    ["a unix socket among others", "unix:///x.sock,gw:1", "a unix socket goes alone"],
    ["the same endpoint twice", "gw:1,gw:1", 'lists "gw:1" twice'],
  ])("refuses %s, naming the option", (_name, raw, why) => {
    expect(() => parseEndpointList("gateway_endpoint", raw)).toThrow(`invalid value for gateway_endpoint: "${raw}"`);
    expect(() => parseEndpointList("gateway_endpoint", raw)).toThrow(why);
  });
});

describe("parseHostPort", () => {
  it("splits host and port, IPv6 without brackets", () => {
    expect(parseHostPort("gw:1")).toEqual({ host: "gw", port: 1 });
    expect(parseHostPort("[::1]:2")).toEqual({ host: "::1", port: 2 });
    expect(typeof parseHostPort("gw")).toBe("string");
  });
});

describe("endpointListTarget", () => {
  it("keeps one endpoint as grpc's own target, lists several under fleet's resolver", () => {
    expect(endpointListTarget(["gw:1"])).toBe("gw:1");
    expect(endpointListTarget(["unix:///x.sock"])).toBe("unix:///x.sock");
    expect(endpointListTarget(["gw-1:1", "[::1]:2"])).toBe("fleet-endpoints:gw-1:1,[::1]:2");
  });

  it("round-trips through the resolver's reading of the target path", () => {
    expect(endpointsOfTargetPath("gw-1:1,[::1]:2,127.0.0.1:3")).toEqual([
      { host: "gw-1", port: 1 },
      { host: "::1", port: 2 },
      { host: "127.0.0.1", port: 3 },
    ]);
  });
});

describe("spreadEndpoints", () => {
  const gateways = ["a:1", "b:2", "c:3"];
  it("rotates the list by the key: the same key always starts at the same endpoint, and keeps every endpoint in list order after it", () => {
    const order = spreadEndpoints(gateways, "machine-1");
    expect(spreadEndpoints(gateways, "machine-1")).toEqual(order);
    expect([...order].sort()).toEqual(gateways);
    const start = gateways.indexOf(order[0] ?? "");
    expect(order).toEqual([...gateways.slice(start), ...gateways.slice(0, start)]);
    expect(spreadEndpoints(["only:1"], "machine-1")).toEqual(["only:1"]);
  });

  it("spreads many keys evenly over the endpoints", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const first = spreadEndpoints(gateways, `${i.toString(16).padStart(8, "0")}f00dfeedbeef`)[0] ?? "";
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    for (const g of gateways) expect(counts.get(g) ?? 0).toBeGreaterThan(850);
  });
});

import { describe, expect, it } from "vitest";
import { parseEndpoint, throughLocalPort, tunnelTarget, type Endpoint } from "./endpoint.js";

describe("parseEndpoint", () => {
  const cases: Array<[string, Endpoint]> = [
    ["127.0.0.1:49500", { kind: "grpc", address: "127.0.0.1:49500" }],
    ["grpc://api.example:49500/", { kind: "grpc", address: "api.example:49500" }],
    ["grpc+unix:///run/fleet/api.sock", { kind: "grpc", address: "unix:///run/fleet/api.sock" }],
    ["http://10.0.0.1:49501/", { kind: "http", url: "http://10.0.0.1:49501" }],
    ["https://fleet.example", { kind: "http", url: "https://fleet.example" }],
    ["unix:///var/run/fleet.sock", { kind: "http-unix", socketPath: "/var/run/fleet.sock" }],
    ["http://a:1,http://b:2", { kind: "http", url: "http://a:1" }],
  ];
  it.each(cases)("%s", (input, want) => expect(parseEndpoint(input)).toEqual(want));

  it.each(["", "nope", "unix://relative", "http://"])("refuses %j", (input) => {
    expect(() => parseEndpoint(input)).toThrow();
  });
});

describe("tunnels", () => {
  it("forward to the endpoint's host:port or socket", () => {
    expect(tunnelTarget({ kind: "grpc", address: "10.0.0.1:49500" })).toBe("10.0.0.1:49500");
    expect(tunnelTarget({ kind: "http-unix", socketPath: "/var/run/fleet.sock" })).toBe("/var/run/fleet.sock");
    expect(tunnelTarget({ kind: "http", url: "http://127.0.0.1:49501" })).toBe("127.0.0.1:49501");
  });
  it("reach it through the local port", () => {
    expect(throughLocalPort({ kind: "http-unix", socketPath: "/var/run/fleet.sock" }, 4000)).toEqual({ kind: "http", url: "http://127.0.0.1:4000" });
    expect(throughLocalPort({ kind: "grpc", address: "10.0.0.1:49500" }, 4000)).toEqual({ kind: "grpc", address: "127.0.0.1:4000" });
  });
});

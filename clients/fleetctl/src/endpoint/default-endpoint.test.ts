// Which API fleetctl talks to when no endpoint is given: fleet's socket on a machine that serves
// it (its agent relays it to the api), as fleet's fleetctl always did, else the api's gRPC port.
import { describe, expect, it } from "vitest";
import { DEFAULT_ENDPOINT } from "../cli/global-flags.js";
import { defaultEndpoint, FLEET_SOCKET_PATH } from "./endpoint.js";
import { setup } from "../cli/fleetctl-harness.js";

describe("defaultEndpoint", () => {
  it("is fleet's socket (HTTP API v1) where it exists, else the fallback", () => {
    expect(defaultEndpoint(true, DEFAULT_ENDPOINT)).toBe("unix:///var/run/fleet.sock");
    expect(defaultEndpoint(false, DEFAULT_ENDPOINT)).toBe("127.0.0.1:49500");
  });
});

describe("fleetctl with no endpoint", () => {
  const cases: Array<{ name: string; sockets: string[]; argv: string[]; env?: Record<string, string>; want: unknown }> = [
    { name: "on a machine that serves fleet.sock: the socket", sockets: [FLEET_SOCKET_PATH], argv: [], want: { kind: "http-unix", socketPath: "/var/run/fleet.sock" } },
    { name: "elsewhere: the api's gRPC port on this host", sockets: [], argv: [], want: { kind: "grpc", address: "127.0.0.1:49500" } },
    { name: "--endpoint wins over the socket", sockets: [FLEET_SOCKET_PATH], argv: ["--endpoint", "10.0.0.1:49500"], want: { kind: "grpc", address: "10.0.0.1:49500" } },
    {
      name: "--endpoint naming the default explicitly wins too",
      sockets: [FLEET_SOCKET_PATH],
      argv: ["--endpoint=127.0.0.1:49500"],
      want: { kind: "grpc", address: "127.0.0.1:49500" },
    },
    { name: "FLEETCTL_ENDPOINT wins over the socket", sockets: [FLEET_SOCKET_PATH], argv: [], env: { FLEETCTL_ENDPOINT: "http://10.0.0.2:8080" }, want: { kind: "http", url: "http://10.0.0.2:8080" } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { run, connections } = setup({ sockets: c.sockets, ...(c.env ? { env: c.env } : {}) });
      expect((await run(...c.argv, "list-machines")).code).toBe(0);
      expect(connections.map((x) => x.endpoint)).toEqual([c.want]);
    });
  }
});

import { describe, expect, it } from "vitest";
import { unreachableMessage } from "./unreachable.js";

describe("unreachableMessage", () => {
  it.each([
    ["grpc-js, nothing listening", "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ", "cannot reach the api at 127.0.0.1:1: connection refused (is the api running there?)"],
    ["HTTP, nothing listening", "connect ECONNREFUSED 127.0.0.1:49501", "cannot reach the api at 127.0.0.1:49501: connection refused (is the api running there?)"],
    ["a socket that is not there", "connect ENOENT /var/run/fleet.sock", "cannot reach the api at /var/run/fleet.sock: no such socket"],
    ["a socket of another user", "connect EACCES /var/run/fleet.sock", "cannot reach the api at /var/run/fleet.sock: permission denied"],
    ["an unknown host", "getaddrinfo ENOTFOUND fleet.nowhere.example", "cannot reach the api at fleet.nowhere.example: unknown host"],
    ["an unknown code, named as it is", "connect EWEIRD 10.0.0.1:1", "cannot reach the api at 10.0.0.1:1: EWEIRD"],
  ])("%s", (_name, raw, want) => expect(unreachableMessage(raw)).toBe(want));

  it("leaves other errors alone", () => {
    expect(unreachableMessage("Unit a.service does not exist")).toBeUndefined();
    expect(unreachableMessage("authentication required: present a token")).toBeUndefined();
  });
});

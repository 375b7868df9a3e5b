import type { PeerCertificate } from "node:tls";
import { describe, expect, it } from "vitest";
import { connect } from "node:tls";
import { anyNameCheck, quietIpServerNameWarning } from "./tls.js";

const cert = (...names: string[]) => ({ subject: { CN: names[0] }, subjectaltname: names.map((n) => (/^[\d.]+$/.test(n) ? `IP Address:${n}` : `DNS:${n}`)).join(", ") }) as unknown as PeerCertificate;

describe("anyNameCheck", () => {
  const check = anyNameCheck(["gw-1.fleet", "gw-2.fleet", "10.0.0.3"]);

  it("accepts a server whose certificate names any of the listed endpoints", () => {
    // grpc-js asks about the channel's one name (the first endpoint's), whichever server answered.
    expect(check("gw-1.fleet", cert("gw-1.fleet"))).toBeUndefined();
    expect(check("gw-1.fleet", cert("gw-2.fleet"))).toBeUndefined();
    expect(check("gw-1.fleet", cert("10.0.0.3"))).toBeUndefined();
  });

  it("refuses a certificate for none of them", () => {
    expect(check("gw-1.fleet", cert("elsewhere.example"))).toBeInstanceOf(Error);
  });
});

describe("quietIpServerNameWarning", () => {
  const warningsDuring = async (act: () => void): Promise<string[]> => {
    const seen: string[] = [];
    const listener = (w: Error & { code?: string }) => seen.push(w.code ?? w.message);
    process.on("warning", listener);
    act();
    await new Promise((resolve) => setImmediate(resolve));
    process.off("warning", listener);
    return seen;
  };

  it("drops Node's warning about an IP address as TLS server name (grpc-js sends one), and no other", async () => {
    // What grpc-js does for an endpoint given as an address (the warning comes at connect).
    const connectByAddress = () => {
      const socket = connect({ host: "127.0.0.1", port: 9, servername: "127.0.0.1" });
      socket.on("error", () => undefined);
      socket.destroy();
    };
    expect(await warningsDuring(connectByAddress)).toEqual(["DEP0123"]);
    quietIpServerNameWarning();
    expect(await warningsDuring(connectByAddress)).toEqual([]);
    expect(await warningsDuring(() => process.emitWarning("still told", { code: "FLEET_TEST" }))).toEqual(["FLEET_TEST"]);
  });
});

import type { PeerCertificate } from "node:tls";
import { describe, expect, it } from "vitest";
import { anyNameCheck } from "./tls.js";

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

// bin/fleetctl, the launcher users run: it starts Node without NODE_EXTRA_CA_CERTS (parsing
// them costs every run ~50 ms) and fleetctl brings them back for a TLS connection. Checked
// against an https server whose certificate only the extra CA vouches for.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCerts, type TestCerts } from "./certs.js";

/** Enough machines that their list is several times a pipe's buffer (64 KiB). */
const MANY = Array.from({ length: 10_000 }, (_, i) => ({ id: i.toString(16).padStart(32, "0"), primaryIP: `10.1.${i >> 8}.${i & 255}`, metadata: { role: "web" } }));

const LAUNCHER = fileURLToPath(new URL("../../clients/fleetctl/bin/fleetctl", import.meta.url));

function run(env: Record<string, string | undefined>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: Record<string, string | undefined> = { ...process.env };
  delete base.NODE_EXTRA_CA_CERTS;
  delete base.FLEETCTL_EXTRA_CA_CERTS;
  return new Promise((resolve) => {
    execFile(LAUNCHER, args, { env: { ...base, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("bin/fleetctl", () => {
  let dir: string;
  let certs: TestCerts;
  let server: Server;
  let endpoint: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "fleetctl-launcher-"));
    certs = makeCerts(dir);
    server = createServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, (req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.end(req.url?.startsWith("/fleet/v1/machines") ? JSON.stringify({ machines: [{ id: "0123456789abcdef", primaryIP: "10.0.0.9", metadata: {} }] }) : "{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    endpoint = `https://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs fleetctl", async () => {
    expect(await run({}, "version")).toEqual({ code: 0, stdout: "fleetctl version 0.1.0\n", stderr: "" });
  });

  it("trusts the CAs of NODE_EXTRA_CA_CERTS for an https endpoint", async () => {
    const r = await run({ NODE_EXTRA_CA_CERTS: certs.ca }, "--endpoint", endpoint, "list-machines", "--no-legend");
    expect(r).toEqual({ code: 0, stdout: "01234567...\t10.0.0.9\t-\n", stderr: "" });
  });

  it("writes all of a long list to a pipe before it exits", async () => {
    // A plain HTTP API answering 10,000 machines in one page.
    const many = createHttpServer((_req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ machines: MANY }));
    });
    await new Promise<void>((resolve) => many.listen(0, "127.0.0.1", resolve));
    try {
      const address = many.address();
      const r = await run({}, "--endpoint", `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`, "list-machines", "--no-legend", "--full");
      expect(r.code).toBe(0);
      const lines = r.stdout.split("\n").filter(Boolean);
      expect(lines).toHaveLength(MANY.length);
      expect(lines.at(-1)).toBe(`${MANY.at(-1)?.id}\t${MANY.at(-1)?.primaryIP}\trole=web`);
    } finally {
      await new Promise<void>((resolve) => many.close(() => resolve()));
    }
  });

  it("refuses that server without them", async () => {
    const r = await run({}, "--endpoint", endpoint, "--request-timeout", "5", "list-machines");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/certificate/i);
  });
});

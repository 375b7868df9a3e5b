// The agent's AgentService answers only about units fleet placed on its machine (their unit
// files in units_dir), and under mutual TLS only the api's identity (agent_api_identities): not
// the journal of sshd or the agent itself, not for whoever reaches the port.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentServiceClient, AgentServiceService, channelCredentials, channelCredentialsForName, configureTls, createLogger, serve, shutdown, unary, FleetError } from "@fleet/wire";
import { agentService } from "@fleet/agent";
import { makeCerts, makeClientCert, type TestCerts } from "./certs.js";

const dir = mkdtempSync(join(tmpdir(), "fleet-agent-access-"));
const unitsDir = join(dir, "units");
const log = createLogger("agent-access-test", "silent");
let certs: TestCerts;
const servers: Array<Awaited<ReturnType<typeof serve>>["server"]> = [];

async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (err) {
    return err instanceof FleetError ? `${err.kind}: ${err.message}` : String(err);
  }
}

async function start(mutualTls: boolean): Promise<string> {
  configureTls(mutualTls ? { certFile: certs.cert, keyFile: certs.key, caFile: certs.ca } : { certFile: "", keyFile: "", caFile: "" });
  const { server, port } = await serve("127.0.0.1:0", [[AgentServiceService, agentService(log, { unitsDir, apiIdentities: new Set(["fleet-api"]), mutualTls })]]);
  servers.push(server);
  return `127.0.0.1:${port}`;
}

function client(address: string, who?: { cert: string; key: string }): AgentServiceClient {
  configureTls(who ? { certFile: who.cert, keyFile: who.key, caFile: certs.ca } : { certFile: "", keyFile: "", caFile: "" });
  const c = new AgentServiceClient(address, channelCredentials());
  configureTls({ certFile: "", keyFile: "", caFile: "" });
  return c;
}

beforeAll(() => {
  certs = makeCerts(dir);
  mkdirSync(unitsDir);
  writeFileSync(join(unitsDir, "web.service"), "[Service]\nExecStart=/bin/sleep infinity\n");
});

afterAll(async () => {
  await Promise.all(servers.map((s) => shutdown(s)));
  rmSync(dir, { recursive: true, force: true });
});

describe("AgentService", () => {
  it("answers about units fleet placed here, refuses others (sshd, the agent itself) and bad names", async () => {
    const c = client(await start(false));
    expect(await outcome(unary(c.unitStatus.bind(c), { unitName: "web.service" }, { deadlineMs: 10_000 }))).toBe("ok");
    expect(await outcome(unary(c.unitStatus.bind(c), { unitName: "ssh.service" }, { deadlineMs: 5000 }))).toBe("permission-denied: unit ssh.service is not one fleet placed on this machine");
    expect(await outcome(unary(c.unitStatus.bind(c), { unitName: "fleet-agent.service" }, { deadlineMs: 5000 }))).toMatch(/^permission-denied/);
    expect(await outcome(unary(c.unitStatus.bind(c), { unitName: "../units/web.service" }, { deadlineMs: 5000 }))).toMatch(/^invalid-argument/);
    const journal = c.journal({ unitName: "systemd-journald.service", lines: 10, follow: false, output: "" });
    const failed = await new Promise<string>((resolve) => {
      journal.on("error", (err: Error) => resolve(err.message));
      journal.on("end", () => resolve("ended"));
      journal.on("data", () => undefined);
    });
    expect(failed).toContain("is not one fleet placed on this machine");
    c.close();
  });

  it("under mutual TLS answers only the api's identity", async () => {
    const address = await start(true);
    const api = client(address, makeClientCert(dir, certs, "fleet-api"));
    const other = client(address, makeClientCert(dir, certs, "fleet-engine"));
    expect(await outcome(unary(api.unitStatus.bind(api), { unitName: "web.service" }, { deadlineMs: 10_000 }))).toBe("ok");
    expect(await outcome(unary(other.unitStatus.bind(other), { unitName: "web.service" }, { deadlineMs: 5000 }))).toBe(
      'permission-denied: AgentService answers only the api (fleet-api), not "fleet-engine"',
    );
    api.close();
    other.close();
  });

  it("with agent_tls_server_name the api checks an agent's certificate against that name, not the address it dials", async () => {
    const address = await start(true);
    const api = makeClientCert(dir, certs, "fleet-api");
    const as = (serverName: string) => {
      configureTls({ certFile: api.cert, keyFile: api.key, caFile: certs.ca });
      const c = new AgentServiceClient(address, channelCredentialsForName(serverName));
      configureTls({ certFile: "", keyFile: "", caFile: "" });
      return c;
    };
    // The agent's certificate names localhost (and 127.0.0.1); it is dialled at 127.0.0.1.
    const named = as("localhost");
    const wrong = as("fleet-agent");
    expect(await outcome(unary(named.unitStatus.bind(named), { unitName: "web.service" }, { deadlineMs: 10_000 }))).toBe("ok");
    expect(await outcome(unary(wrong.unitStatus.bind(wrong), { unitName: "web.service" }, { deadlineMs: 5000 }))).toMatch(/^unavailable/);
    named.close();
    wrong.close();
  });
});

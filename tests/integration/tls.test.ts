// gRPC with the TLS options (tls_cert_file, tls_key_file, tls_ca_file): a server with a CA
// requires clients signed by it; plaintext and certificate-less clients are refused.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  channelCredentials,
  configureTls,
  connect,
  createLogger,
  FleetServiceClient,
  FleetServiceService,
  serve,
  shutdown,
  unary,
  unaryHandler,
  type FleetServiceServer,
} from "@fleet/wire";
import { makeCerts, type TestCerts } from "./certs.js";

const dir = mkdtempSync(join(tmpdir(), "fleet-tls-"));
const file = (name: string) => join(dir, name);
let server: Awaited<ReturnType<typeof serve>>["server"] | undefined;
let address = "";

let certs: TestCerts;

/** A client's credentials as a process with only these TLS files would have them. */
function credentialsWith(files: Partial<Parameters<typeof configureTls>[0]>) {
  configureTls({ certFile: "", keyFile: "", caFile: "", ...files });
  const creds = channelCredentials();
  configureTls({ certFile: certs.cert, keyFile: certs.key, caFile: certs.ca });
  return creds;
}

beforeAll(async () => {
  certs = makeCerts(dir);
  configureTls({ certFile: certs.cert, keyFile: certs.key, caFile: certs.ca });
  const log = createLogger("tls-test", "silent");
  const impl = { listMachines: unaryHandler(log, "ListMachines", async () => ({ machines: [] })) } as unknown as FleetServiceServer;
  const served = await serve("127.0.0.1:0", [[FleetServiceService, impl]]);
  server = served.server;
  address = `127.0.0.1:${served.port}`;
});

afterAll(async () => {
  configureTls({ certFile: "", keyFile: "", caFile: "" });
  if (server) await shutdown(server);
  rmSync(dir, { recursive: true, force: true });
});

describe("gRPC over TLS", () => {
  it("a client with the CA and a certificate it signed gets through", async () => {
    const client = connect(FleetServiceClient, address);
    await expect(unary(client.listMachines.bind(client), {}, { deadlineMs: 3000 })).resolves.toEqual({ machines: [] });
    client.close();
  });

  it("a plaintext client is refused", async () => {
    const client = connect(FleetServiceClient, address, credentialsWith({}));
    await expect(unary(client.listMachines.bind(client), {}, { deadlineMs: 3000 })).rejects.toThrow();
    client.close();
  });

  it("a TLS client without a certificate is refused (mutual TLS)", async () => {
    const client = connect(FleetServiceClient, address, credentialsWith({ caFile: certs.ca }));
    await expect(unary(client.listMachines.bind(client), {}, { deadlineMs: 3000 })).rejects.toThrow();
    client.close();
  });

  it("a missing file is a start-up error naming the option", () => {
    expect(() => configureTls({ certFile: file("nope.pem"), keyFile: file("node.key"), caFile: "" })).toThrow("tls_cert_file");
    expect(() => configureTls({ certFile: file("node.pem"), keyFile: "", caFile: "" })).toThrow("go together");
  });
});

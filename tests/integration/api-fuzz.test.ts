// Property-based tests (fast-check) of the api's request decoding and checks, against a real
// api, registry-gateway, etcd and NATS: no request yields a 5xx or INTERNAL or stops a process,
// and a unit the api accepts reads back byte for byte.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@fleet/launcher";
import { connect, FleetError, FleetServiceClient, TargetState, unary } from "@fleet/wire";
import { startApiStack, type ApiStack } from "./api-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "fleet-fuzz-"));
let stack: ApiStack | undefined;
let base = "";
let fleet: FleetServiceClient;

const nasty = fc.string({
  unit: fc.oneof(fc.constantFrom("\u0000", "\n", "\r", "\t", "[", "]", "=", "\\", "/", "%", "@", ".", " ", "\u001b", "é", "😀", "service"), fc.string({ minLength: 1, maxLength: 1, unit: "binary" })),
  maxLength: 40,
});
const optionArb = fc.record({ section: fc.oneof(fc.constant("Service"), nasty), name: fc.oneof(fc.constant("ExecStart"), nasty), value: nasty });
const json = fc.jsonValue({ maxDepth: 3 });

beforeAll(async () => {
  stack = await startApiStack(dir, { gateway: { FLEET_VERBOSITY: "error" }, api: { FLEET_VERBOSITY: "error" } });
  base = `http://${stack.httpAddress}`;
  fleet = connect(FleetServiceClient, stack.grpcAddress);
  await waitFor("api to serve", async () => (await fetch(`${base}/fleet/v1/units`)).status === 200, { timeoutMs: 20_000 });
});

afterAll(async () => {
  fleet?.close();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const alive = () => stack?.api.exitCode === null && stack.gateway.exitCode === null;

describe("fuzz: HTTP API v1", () => {
  it("no method, path and body yields a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "POST"),
        fc.oneof(nasty.map((p) => `/fleet/v1/units/${encodeURIComponent(p)}`), nasty.map((p) => `/fleet/v1/${p}`), nasty.map((p) => `/fleet/v1/state?unitName=${encodeURIComponent(p)}&machineID=${encodeURIComponent(p)}`)),
        fc.oneof(json.map((j) => JSON.stringify(j)), nasty),
        async (method, path, body) => {
          const res = await fetch(`${base}${path}`, { method, ...(method === "GET" || method === "DELETE" ? {} : { body, headers: { "Content-Type": "application/json" } }) });
          await res.text();
          expect(res.status, `${method} ${path} ${body}`).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
    expect(alive()).toBe(true);
  });

  it("a unit PUT is refused (4xx) or reads back byte for byte", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(optionArb, { minLength: 1, maxLength: 4 }), async (options) => {
        const name = `fuzz-${n++}.service`;
        const res = await fetch(`${base}/fleet/v1/units/${name}`, { method: "PUT", body: JSON.stringify({ desiredState: "inactive", options }), headers: { "Content-Type": "application/json" } });
        const text = await res.text();
        expect(res.status, text).toBeLessThan(500);
        if (res.status >= 400) return;
        const got = (await (await fetch(`${base}/fleet/v1/units/${name}`)).json()) as { options: Array<{ section?: string; name?: string; value?: string }> };
        // fleet's JSON leaves empty fields out (omitempty): absent is "".
        expect(got.options.map((o) => ({ section: o.section ?? "", name: o.name ?? "", value: o.value ?? "" }))).toEqual(options);
      }),
      { numRuns: 200 },
    );
    expect(alive()).toBe(true);
  });

  it("a metadata PATCH never yields a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(nasty, nasty, async (key, value) => {
        const body = [{ op: "add", path: `/${"1".repeat(32)}/metadata/${key}`, value }];
        const res = await fetch(`${base}/fleet/v1/machines`, { method: "PATCH", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
        await res.text();
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  });
});

describe("fuzz: gRPC FleetService", () => {
  it("CreateUnit never fails INTERNAL, and a unit it accepts reads back byte for byte", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nasty, nasty.map((s) => `g-${s}.service`)), fc.array(optionArb, { maxLength: 4 }), async (name, options) => {
        try {
          await unary(fleet.createUnit.bind(fleet), { unit: { name, options, hash: "", desiredState: TargetState.TARGET_STATE_INACTIVE } }, { deadlineMs: 5000 });
        } catch (err) {
          if (!(err instanceof FleetError)) throw err;
          expect(["invalid-argument", "resource-exhausted", "already-exists"], err.message).toContain(err.kind);
          return;
        }
        const got = await unary(fleet.getUnit.bind(fleet), { name }, { deadlineMs: 5000 });
        expect(got.unit?.unit?.options).toEqual(options);
      }),
      { numRuns: 200 },
    );
    expect(alive()).toBe(true);
  });
});
